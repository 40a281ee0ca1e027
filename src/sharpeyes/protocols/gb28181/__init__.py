"""GB/T 28181: the SIP subset the standard uses (registration, MANSCDP messages), on asyncio over UDP and TCP."""
