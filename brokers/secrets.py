"""`SsmSecretStore`: every secret the brokers read or keep, as SSM Parameter Store SecureStrings.

Per-user secrets live under `{prefix}/{sub}/{broker}/...` (settings' `secrets_prefix`: `/basketgraph/local/brokers`
locally, `/basketgraph/<stage>/brokers` on AWS), encrypted with the KMS key `secrets_kms_key_id` when one is set. A
store with `prefix=""` reads parameters by their full name (the deployment's Kite API secret, the feed's token).
"""

from __future__ import annotations

import contextlib
from typing import Any

DEFAULT_SECRETS_PREFIX = "/basketgraph/local/brokers"


class SsmSecretStore:
    """Secrets as SSM Parameter Store SecureStrings (the local stack points the client at its own SSM).

    Parameters
    ----------
    prefix
        Prepended to every name (settings' `secrets_prefix`), `/basketgraph/local/brokers` by default.
    kms_key_id
        The KMS key SecureStrings are encrypted with (settings' `secrets_kms_key_id`), else the account's SSM key.
    """

    def __init__(self, ssm_client: Any, prefix: str = DEFAULT_SECRETS_PREFIX, kms_key_id: str | None = None) -> None:
        self._ssm = ssm_client
        self._prefix = prefix.rstrip("/")
        self._kms_key_id = kms_key_id or None

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
