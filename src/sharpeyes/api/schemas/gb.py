"""GB/T 28181 devices as the API shows them."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class GbDeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: str
    status: str
    transport: str
    address: str
    registered_at: datetime
    expires_at: datetime
    last_keepalive: datetime | None
