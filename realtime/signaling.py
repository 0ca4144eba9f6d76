"""SDP offer/answer with aiortc: validation, ICE configuration, and answer tuning.

Non-trickle ICE: the answer is returned once gathering is complete, so one HTTP round trip (the
`/offer` JSON or a WHIP POST) sets up the session.
"""

from __future__ import annotations

import logging
import re

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from realtime.config import MediaSettings

log = logging.getLogger(__name__)


class OfferError(ValueError):
    """An offer we cannot answer; the message goes back to the client with a 400."""


def check_offer(sdp: object, kind: object = "offer") -> str:
    """Cheap structural checks before aiortc parses anything; returns the SDP text."""
    if kind != "offer":
        raise OfferError(f"expected type 'offer', got {kind!r}")
    if not isinstance(sdp, str) or not sdp.strip():
        raise OfferError("missing SDP")
    if not sdp.lstrip().startswith("v=0"):
        raise OfferError("SDP must start with 'v=0'")
    if "\nm=" not in sdp.replace("\r\n", "\n"):
        raise OfferError("SDP has no media section (m=audio, m=video or m=application)")
    if "a=fingerprint:" not in sdp:
        raise OfferError("SDP has no DTLS fingerprint; WebRTC needs one")
    return sdp


def rtc_configuration(media: MediaSettings) -> RTCConfiguration:
    """ICE servers from settings; an explicit empty list so aiortc does not add a public STUN server."""
    servers = [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
               for s in media.ice_servers]
    return RTCConfiguration(iceServers=servers)


def enable_loopback_candidates() -> None:
    """Make aioice offer 127.0.0.1 too, for browsers on this machine or a loopback-only namespace.

    aioice drops loopback addresses from its host candidates; we wrap its address lookup once.
    """
    original = aioice.ice.get_host_addresses
    if getattr(original, "_coach_loopback", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses = [*addresses, "127.0.0.1"]
        return addresses

    with_loopback._coach_loopback = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


_VP8_RTPMAP = re.compile(r"^a=rtpmap:(\d+) VP8/90000", re.MULTILINE)


def tune_answer(sdp: str, start_kbps: int) -> str:
    """Ask Chrome for a sane start bitrate on VP8 so 640x480 holds from the first second."""
    if start_kbps <= 0:
        return sdp
    lines = sdp.split("\r\n")
    for pt in _VP8_RTPMAP.findall(sdp.replace("\r\n", "\n")):
        hint = f"x-google-start-bitrate={start_kbps};x-google-min-bitrate={start_kbps // 2}"
        fmtp = f"a=fmtp:{pt} "
        for i, line in enumerate(lines):
            if line.startswith(fmtp):
                lines[i] = f"{line};{hint}"
                break
        else:
            at = next(i for i, line in enumerate(lines) if line.startswith(f"a=rtpmap:{pt} "))
            lines.insert(at + 1, f"{fmtp}{hint}")
    return "\r\n".join(lines)


async def apply_offer(pc: RTCPeerConnection, sdp: str) -> None:
    """Apply the remote offer; any parse failure becomes an OfferError a client can read."""
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    except Exception as exc:  # aiortc raises ValueError, KeyError, IndexError... on bad SDP
        raise OfferError(f"malformed SDP: {type(exc).__name__}: {exc}") from None


async def create_answer(pc: RTCPeerConnection, media: MediaSettings) -> str:
    """Our complete answer SDP, ICE candidates gathered (non-trickle).

    An offer can parse and still be impossible to answer (media sections without a mid, or two
    with the same one: aiortc then raises while building the answer); that is the client's
    offer at fault, so it becomes an OfferError (a 400), not a server error."""
    try:
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
    except Exception as exc:  # aiortc raises ValueError, AttributeError... on such offers
        raise OfferError(f"offer cannot be answered: {type(exc).__name__}: {exc}") from None
    return tune_answer(pc.localDescription.sdp, media.video_start_kbps)
