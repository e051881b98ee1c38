#!/usr/bin/env python3
"""A py-libp2p 0.8.1 peer on Phantom Trail's report topic, driven by ReportTopicInteropTests.

Noise + Yamux over TCP, /meshsub/1.1.0 and /meshsub/1.0.0, D=6 / D_lo=5 / D_hi=12, 1 s heartbeat. The report topic
is anonymous as our nodes configure it (StrictNoSign, message ID = SHA-256 of the data), but this peer does not
enforce that policy: it accepts and reports every message, with the presence of each authorship field as it was
decoded from the RPC, so the test can check that our nodes never send one.

Every stdout line is one JSON object:

  {"event":"listening","peer_id":…,"addrs":[…]}                         first line
  {"event":"connected","peer_id":…}                                       a dial succeeded
  {"event":"peer_subscribed","peer_id":…,"topic":…}                       a peer joined a topic
  {"event":"mesh","topic":…,"peers":[…]}                                  our mesh for the topic changed
  {"event":"published","msg_id":hex,"size":n}                             a stdin line was published
  {"event":"message","topic":…,"size":n,"data_hex":…,"msg_id":hex,"received_from":…,
   "has_from":bool,"has_seqno":bool,"has_signature":bool,"has_key":bool} a message arrived
  {"event":"error","op":…,"error":…}

Each stdin line is the hex of one message to publish on the topic, as a bare message (data and topic only).
Stock py-libp2p cannot publish such messages; pubsub_peer.py (the peer shared with interop_pubsub.py) adjusts the
places that need it.
"""

from __future__ import annotations

from libp2p.pubsub.pb import rpc_pb2

from pubsub_peer import PubsubPeer, argument_parser, run_peer, say, sha256_id

TOPIC = "/phantom-trail/reports/1"


def present(msg: rpc_pb2.Message, field: str) -> bool:
    """Whether `field` was on the wire (proto2 presence), or is non-empty."""
    try:
        if msg.HasField(field):
            return True
    except ValueError:
        pass
    return bool(getattr(msg, field))


class Peer(PubsubPeer):
    def __init__(self, args) -> None:
        # strict_signing=False: no signature check, so every message is delivered and its fields reported as-is.
        super().__init__(args, topic=TOPIC, id_fn=sha256_id, strict_signing=False, id_keyed_cache=True)

    def report(self, msg: rpc_pb2.Message, msg_id: bytes) -> None:
        say("message", topic=msg.topicIDs[0] if msg.topicIDs else "", size=len(msg.data), data_hex=msg.data.hex(),
            msg_id=msg_id.hex(), has_from=present(msg, "from_id"), has_seqno=present(msg, "seqno"),
            has_signature=present(msg, "signature"), has_key=present(msg, "key"))

    async def handle_line(self, line: bytes) -> None:
        text = line.strip()
        if not text:
            return
        try:
            data = bytes.fromhex(text.decode("ascii"))
        except ValueError as error:
            say("error", op="stdin", error=repr(error))
            return
        try:
            msg_id = await self.publish_bare(data)
        except Exception as error:  # noqa: BLE001 - reported to the test
            say("error", op="publish", error=repr(error))
            return
        say("published", msg_id=msg_id.hex(), size=len(data))


def main() -> None:
    run_peer(Peer, argument_parser(__doc__, duration=240).parse_args())


if __name__ == "__main__":
    main()
