#!/usr/bin/env python3
"""A py-libp2p 0.8.1 GossipSub peer driven by Phantom Trail's integration tests.

Noise + Yamux over TCP, /meshsub/1.1.0 and /meshsub/1.0.0, D=6 / D_lo=5 / D_hi=12, 1 s heartbeat.
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
drops a second message with the same empty from||seqno as equivocation), so this script adjusts those three places.
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


def say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def sha256_id(msg: rpc_pb2.Message) -> bytes:
    return hashlib.sha256(msg.data).digest()


def author_seqno_id(msg: rpc_pb2.Message) -> bytes:
    return msg.from_id + msg.seqno


class IdKeyedCache(MessageCache):
    """A message cache keyed by the topic's message ID (stock py-libp2p always uses from||seqno)."""

    def __init__(self, id_fn) -> None:
        super().__init__(3, 5)
        self.id_fn = id_fn

    def put(self, msg: rpc_pb2.Message) -> None:
        key = self.id_fn(msg)
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


def reject_authored(forwarder: ID, msg: rpc_pb2.Message) -> bool:
    present = [name for name, value in (("from", msg.from_id), ("seqno", msg.seqno),
                                        ("signature", msg.signature), ("key", msg.key)) if value]
    if present:
        say("rejected", reason="StrictNoSign message carries " + ",".join(present), forwarder=str(forwarder))
        return False
    return True


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.id_fn = sha256_id if args.no_sign else author_seqno_id
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
        if args.no_sign:
            self.router.mcache = IdKeyedCache(self.id_fn)
        self.pubsub = ReportingPubsub(
            self.host, self.router, strict_signing=not args.no_sign, msg_id_constructor=self.id_fn
        )
        if args.no_sign:
            self.pubsub.set_topic_validator(args.topic, reject_authored, False)
        self.own: set[bytes] = set()

    async def receive(self) -> None:
        subscription = await self.pubsub.subscribe(self.args.topic)
        while True:
            msg = await subscription.get()
            msg_id = self.id_fn(msg)
            if msg_id in self.own:
                continue  # py-libp2p hands our own publishes to local subscribers too
            try:
                data = msg.data.decode("utf-8")
            except UnicodeDecodeError:
                data = msg.data.hex()
            say("message", topic=msg.topicIDs[0] if msg.topicIDs else "", data=data,
                **{"from": str(ID(msg.from_id)) if msg.from_id else None},
                msg_id=msg_id.hex(), signed=bool(msg.signature))

    async def watch_mesh(self) -> None:
        last: list[str] | None = None
        while True:
            peers = sorted(str(p) for p in self.router.mesh.get(self.args.topic, ()))
            if peers != last:
                say("mesh", topic=self.args.topic, peers=peers)
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
            if self.args.no_sign:
                msg = rpc_pb2.Message(data=data, topicIDs=[self.args.topic])
                msg_id = self.id_fn(msg)
                self.own.add(msg_id)
                await self.pubsub.push_msg(self.me, msg)
            else:
                await self.pubsub.publish(self.args.topic, data)
                msg_id = self.me.to_bytes() + self.pubsub.counter.to_bytes(8, "big")
                self.own.add(msg_id)
        except Exception as error:  # noqa: BLE001 - reported to the test
            say("error", op="publish", error=repr(error))
            return
        say("published", msg_id=msg_id.hex())

    async def read_stdin(self, done: trio.Event) -> None:
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.buffer.readline, abandon_on_cancel=True)
            if not line:
                break
            data = line.rstrip(b"\r\n")
            if data:
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
    parser.add_argument("--topic", required=True)
    parser.add_argument("--listen", action="append", default=None)
    parser.add_argument("--dial", action="append", default=[])
    parser.add_argument("--no-sign", action="store_true")
    parser.add_argument("--duration", type=float, default=120)
    args = parser.parse_args()
    args.listen = args.listen or ["/ip4/127.0.0.1/tcp/0"]
    trio.run(Peer(args).run)


if __name__ == "__main__":
    main()
