"""`SsmSecretStore`: every secret the brokers read or keep, as SSM Parameter Store SecureStrings.

Per-user secrets live under `{SECRETS_PREFIX}/{sub}/{broker}/...` (default prefix `/basketgraph/local/brokers`;
on AWS `/basketgraph/<stage>/brokers`), encrypted with the KMS key `SECRETS_KMS_KEY_ID` when one is set. A
store with `prefix=""` reads parameters by their full name (the deployment's Kite API secret, the feed's token).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

DEFAULT_SECRETS_PREFIX = "/basketgraph/local/brokers"


class SsmSecretStore:
    """Secrets as SSM Parameter Store SecureStrings (the local stack points the client at its own SSM).

    Parameters
    ----------
    prefix
        Prepended to every name; env `SECRETS_PREFIX`, else `/basketgraph/local/brokers`.
    kms_key_id
        The KMS key SecureStrings are encrypted with; env `SECRETS_KMS_KEY_ID`, else the account's SSM key.
    """

    def __init__(self, ssm_client: Any, prefix: str | None = None, kms_key_id: str | None = None) -> None:
        self._ssm = ssm_client
        chosen = os.environ.get("SECRETS_PREFIX", DEFAULT_SECRETS_PREFIX) if prefix is None else prefix
        self._prefix = chosen.rstrip("/")
        self._kms_key_id = kms_key_id or os.environ.get("SECRETS_KMS_KEY_ID") or None

    def name(self, name: str) -> str:
        """The full parameter name of `name`."""
        return self._prefix + name

    def get(self, name: str) -> str | None:
        """The secret, or None when there is no such parameter."""
        try:
            return self.require(name)
        except self._ssm.exceptions.ParameterNotFound:
            return None

    def require(self, name: str) -> str:
        """The secret, decrypted.

        Raises
        ------
        botocore.exceptions.ClientError
            SSM refused the read (no such parameter, no permission).
        """
        value: str = self._ssm.get_parameter(Name=self.name(name), WithDecryption=True)["Parameter"]["Value"]
        return value

    def put(self, name: str, value: str) -> None:
        extra = {"KeyId": self._kms_key_id} if self._kms_key_id else {}
        self._ssm.put_parameter(Name=self.name(name), Value=value, Type="SecureString", Overwrite=True, **extra)

    def delete(self, name: str) -> None:
        with contextlib.suppress(self._ssm.exceptions.ParameterNotFound):
            self._ssm.delete_parameter(Name=self.name(name))
