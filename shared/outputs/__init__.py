"""What supervisors and managers read: the sample dashboard, the daily report e-mail, KPI breach alerts."""
