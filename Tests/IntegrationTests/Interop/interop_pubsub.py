#!/usr/bin/env python3
"""A py-libp2p 0.8.1 GossipSub peer driven by Phantom Trail's integration tests.

The peer itself (transport, GossipSub settings, the JSON lines it shares with interop_reports.py) is in
pubsub_peer.py.

Every stdout line is one JSON object:

  {"event":"listening","peer_id":…,"addrs":[…]}           first line
  {"event":"connected","peer_id":…}                         a connection opened
  {"event":"peer_subscribed","peer_id":…,"topic":…}         a peer joined the topic
  {"event":"mesh","topic":…,"peers":[…]}                    our mesh for the topic changed
  {"event":"published","msg_id":hex}                        a stdin line was published
  {"event":"message","topic":…,"data":…,"from":…|null,"msg_id":hex,"signed":bool}
  {"event":"error","op":…,"error":…}

Each stdin line is published on the topic (without its newline). With --no-sign the topic is StrictNoSign: messages
carry only data and topic, the message ID is SHA-256 of the data, and messages with from/seqno/signature/key are
rejected. Stock py-libp2p cannot do this (it always sets from and seqno, keys its message cache by from||seqno and
drops a second message with the same empty from||seqno as equivocation); pubsub_peer.py adjusts those places.
"""

from __future__ import annotations

from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2

from pubsub_peer import PubsubPeer, argument_parser, author_seqno_id, run_peer, say, sha256_id


def reject_authored(forwarder: ID, msg: rpc_pb2.Message) -> bool:
    present = [name for name, value in (("from", msg.from_id), ("seqno", msg.seqno),
                                        ("signature", msg.signature), ("key", msg.key)) if value]
    if present:
        say("rejected", reason="StrictNoSign message carries " + ",".join(present), forwarder=str(forwarder))
        return False
    return True


class Peer(PubsubPeer):
    def __init__(self, args) -> None:
        super().__init__(
            args,
            topic=args.topic,
            id_fn=sha256_id if args.no_sign else author_seqno_id,
            strict_signing=not args.no_sign,
            id_keyed_cache=args.no_sign,
        )
        if args.no_sign:
            self.pubsub.set_topic_validator(args.topic, reject_authored, False)

    def report(self, msg: rpc_pb2.Message, msg_id: bytes) -> None:
        try:
            data = msg.data.decode("utf-8")
        except UnicodeDecodeError:
            data = msg.data.hex()
        say("message", topic=msg.topicIDs[0] if msg.topicIDs else "", data=data,
            **{"from": str(ID(msg.from_id)) if msg.from_id else None},
            msg_id=msg_id.hex(), signed=bool(msg.signature))

    async def handle_line(self, line: bytes) -> None:
        data = line.rstrip(b"\r\n")
        if not data:
            return
        try:
            if self.args.no_sign:
                msg_id = await self.publish_bare(data)
            else:
                await self.pubsub.publish(self.topic, data)
                msg_id = self.me.to_bytes() + self.pubsub.counter.to_bytes(8, "big")
                self.own.add(msg_id)
        except Exception as error:  # noqa: BLE001 - reported to the test
            say("error", op="publish", error=repr(error))
            return
        say("published", msg_id=msg_id.hex())


def main() -> None:
    parser = argument_parser(__doc__, duration=120)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--no-sign", action="store_true")
    run_peer(Peer, parser.parse_args())


if __name__ == "__main__":
    main()
