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
Stock py-libp2p cannot publish such messages (it always sets from and seqno, keys its message cache by from||seqno
and drops a second message with the same empty from||seqno as equivocation), so this script adjusts those places.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair as new_ed25519_pair
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519_pair
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.pubsub.gossipsub import PROTOCOL_ID as MESHSUB_10, PROTOCOL_ID_V11 as MESHSUB_11, GossipSub
from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID, Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_ID, Yamux
from libp2p.tools.anyio_service import background_trio_service

TOPIC = "/phantom-trail/reports/1"


def say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def content_id(msg: rpc_pb2.Message) -> bytes:
    return hashlib.sha256(msg.data).digest()


def present(msg: rpc_pb2.Message, field: str) -> bool:
    """Whether `field` was on the wire (proto2 presence), or is non-empty."""
    try:
        if msg.HasField(field):
            return True
    except ValueError:
        pass
    return bool(getattr(msg, field))


class ContentKeyedCache(MessageCache):
    """A message cache keyed by SHA-256 of the data (stock py-libp2p keys it by from||seqno)."""

    def __init__(self) -> None:
        super().__init__(3, 5)

    def put(self, msg: rpc_pb2.Message) -> None:
        key = content_id(msg)
        if key not in self.msgs:
            self.msgs[key] = msg
            self.history[0].append(CacheEntry(key, msg.topicIDs))


class Router(GossipSub):
    def _check_equivocation(self, msg: rpc_pb2.Message) -> bool:
        # Anonymous messages have no author to equivocate; stock code treats them all as one author+seqno.
        if not msg.from_id and not msg.seqno:
            return True
        return super()._check_equivocation(msg)

    def _perform_opportunistic_grafting(self, topic, peers_to_graft) -> int:
        # Stock py-libp2p runs this on every heartbeat without the spec's median-score gate.
        return 0


class ReportingPubsub(Pubsub):
    def handle_subscription(self, origin_id: ID, sub_message: rpc_pb2.RPC.SubOpts) -> None:
        if sub_message.subscribe:
            say("peer_subscribed", peer_id=str(origin_id), topic=sub_message.topicid)
        super().handle_subscription(origin_id, sub_message)


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.key_pair = new_ed25519_pair()
        self.host = new_host(
            key_pair=self.key_pair,
            sec_opt={NOISE_ID: NoiseTransport(self.key_pair, noise_privkey=new_x25519_pair().private_key)},
            muxer_opt={YAMUX_ID: Yamux},
            listen_addrs=[multiaddr.Multiaddr(a) for a in args.listen],
        )

        async def no_auto_connect() -> None:
            return None

        # The swarm would otherwise re-dial every known peer every 10 s.
        self.host.get_network().auto_connector.start = no_auto_connect
        self.me = self.host.get_id()
        self.router = Router(
            protocols=[MESHSUB_11, MESHSUB_10],
            degree=6, degree_low=5, degree_high=12,
            heartbeat_interval=1, heartbeat_initial_delay=0.1,
            time_to_live=60, gossip_window=3, gossip_history=5,
            adaptive_gossip_enabled=False,  # raises the heartbeat to 30-60 s
            spam_protection_enabled=False,  # drops our own publishes beyond 10/s
            eclipse_protection_enabled=False,  # every loopback peer shares one IP
        )
        self.router.mcache = ContentKeyedCache()
        # strict_signing=False: no signature check, so every message is delivered and its fields reported as-is.
        self.pubsub = ReportingPubsub(self.host, self.router, strict_signing=False, msg_id_constructor=content_id)
        self.own: set[bytes] = set()

    async def receive(self) -> None:
        subscription = await self.pubsub.subscribe(TOPIC)
        while True:
            msg = await subscription.get()
            msg_id = content_id(msg)
            if msg_id in self.own:
                continue  # py-libp2p hands our own publishes to local subscribers too
            say("message", topic=msg.topicIDs[0] if msg.topicIDs else "", size=len(msg.data), data_hex=msg.data.hex(),
                msg_id=msg_id.hex(), has_from=present(msg, "from_id"), has_seqno=present(msg, "seqno"),
                has_signature=present(msg, "signature"), has_key=present(msg, "key"))

    async def watch_mesh(self) -> None:
        last: list[str] | None = None
        while True:
            peers = sorted(str(p) for p in self.router.mesh.get(TOPIC, ()))
            if peers != last:
                say("mesh", topic=TOPIC, peers=peers)
                last = peers
            await trio.sleep(0.05)

    async def dial(self, address: str) -> None:
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        for attempt in range(20):
            try:
                await self.host.connect(info)
                say("connected", peer_id=str(info.peer_id))
                return
            except Exception as error:  # noqa: BLE001 - reported, then retried
                if attempt == 19:
                    say("error", op="dial", error=repr(error))
                    return
                await trio.sleep(0.25)
                self.host.get_network().unblock_peer(info.peer_id)

    async def publish(self, data: bytes) -> None:
        try:
            msg = rpc_pb2.Message(data=data, topicIDs=[TOPIC])
            msg_id = content_id(msg)
            self.own.add(msg_id)
            await self.pubsub.push_msg(self.me, msg)
        except Exception as error:  # noqa: BLE001 - reported to the test
            say("error", op="publish", error=repr(error))
            return
        say("published", msg_id=msg_id.hex(), size=len(data))

    async def read_stdin(self, done: trio.Event) -> None:
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.buffer.readline, abandon_on_cancel=True)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            try:
                data = bytes.fromhex(text.decode("ascii"))
            except ValueError as error:
                say("error", op="stdin", error=repr(error))
                continue
            await self.publish(data)
        done.set()

    async def run(self) -> None:
        async with self.host.run(listen_addrs=[multiaddr.Multiaddr(a) for a in self.args.listen]):
            async with background_trio_service(self.pubsub), background_trio_service(self.router):
                await self.pubsub.wait_until_ready()
                say("listening", peer_id=str(self.me), addrs=[str(a) for a in self.host.get_addrs()])
                done = trio.Event()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.receive)
                    nursery.start_soon(self.watch_mesh)
                    for address in self.args.dial:
                        nursery.start_soon(self.dial, address)
                    nursery.start_soon(self.read_stdin, done)
                    with trio.move_on_after(self.args.duration):
                        await done.wait()
                    nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", action="append", default=None)
    parser.add_argument("--dial", action="append", default=[])
    parser.add_argument("--duration", type=float, default=240)
    args = parser.parse_args()
    args.listen = args.listen or ["/ip4/127.0.0.1/tcp/0"]
    trio.run(Peer(args).run)


if __name__ == "__main__":
    main()
