"""AWS sessions for SES and SNS, preferably without a static key.

With ``ANALYTICS_AWS_ROLE_ARN`` set, the function assumes that AWS role with its own Google identity
(web identity federation): it fetches a Google ID token for the audience ``sts.amazonaws.com`` from
the metadata server and hands it to STS ``AssumeRoleWithWebIdentity``; botocore refreshes the
temporary credentials before they expire. The role's trust policy names ``accounts.google.com`` and
the function's service account (docs/outputs.md). Without it, boto3's default chain applies
(environment variables, shared files): meant for local use and tests (moto).
"""

from __future__ import annotations

import boto3
import botocore.session
from botocore.credentials import (
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
)

WEB_IDENTITY_AUDIENCE = "sts.amazonaws.com"
SESSION_NAME = "channel-analytics"


def google_id_token(audience: str = WEB_IDENTITY_AUDIENCE) -> str:
    """An ID token of the function's service account (Cloud Run metadata server)."""
    import google.auth.transport.requests
    import google.oauth2.id_token

    return str(google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience))


class GoogleFederation(CredentialProvider):
    """Temporary AWS credentials for the function's Google identity, refreshed by botocore."""

    METHOD = "assume-role-with-web-identity"
    CANONICAL_NAME = "google-federation"

    def __init__(self, fetcher: AssumeRoleWithWebIdentityCredentialFetcher):
        super().__init__()
        self._fetcher = fetcher

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(
            method=self.METHOD, refresh_using=self._fetcher.fetch_credentials
        )


def aws_session(region: str, role_arn: str | None) -> boto3.Session:
    """A boto3 session in ``region``: federated into ``role_arn`` when given, else the default chain."""
    if not role_arn:
        return boto3.Session(region_name=region)
    core = botocore.session.Session()
    fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
        client_creator=core.create_client,
        web_identity_token_loader=google_id_token,
        role_arn=role_arn,
        extra_args={"RoleSessionName": SESSION_NAME},
    )
    # First in botocore's chain: no environment key or shared file can take precedence.
    core.get_component("credential_provider").insert_before("env", GoogleFederation(fetcher))
    return boto3.Session(botocore_session=core, region_name=region)
