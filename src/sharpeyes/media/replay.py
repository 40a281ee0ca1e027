"""Plays one source once into a relay, on its own thread: a device's recording asked for a time range, which
ends when the range does (no reconnecting, unlike a camera's stream session)."""

from __future__ import annotations

import logging
import threading

from sharpeyes.core.errors import SourceEndedError, SourceError
from sharpeyes.media.relay import PacketRelay
from sharpeyes.protocols.sources import PacketSource

logger = logging.getLogger(__name__)


class Replay:
    def __init__(self, source: PacketSource, relay: PacketRelay, name: str) -> None:
        self.source = source
        self.relay = relay
        self.failure: SourceError | None = None
        """Why it could not start or stopped early (None: it played to the end, or is playing)."""
        self.opened = threading.Event()
        """Set once the source opened or failed to."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.relay.set_info(self.source.open())
            self.opened.set()
            for packet in self.source.packets():
                self.relay.publish(packet)
                if self._stop.is_set():
                    break
        except SourceEndedError:
            pass  # played to the end
        except SourceError as err:
            self.failure = err
        except Exception as err:  # a bug ends this playback, not the platform
            logger.exception("replay %s failed", self._thread.name)
            self.failure = SourceError(f"internal error: {err}")
        finally:
            self.opened.set()
            self.source.close()
            self.relay.close()
