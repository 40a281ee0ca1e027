"""The set of services one process runs, handed to the API and the workers."""

from __future__ import annotations

from dataclasses import dataclass

from sharpeyes.services.accounts import AccountService
from sharpeyes.services.cameras import CameraService


@dataclass(frozen=True, slots=True)
class Services:
    accounts: AccountService
    cameras: CameraService
