"""The py-libp2p 0.8.1 GossipSub peer shared by interop_pubsub.py and interop_reports.py (not run by itself).

Noise + Yamux over TCP, /meshsub/1.1.0 and /meshsub/1.0.0, D=6 / D_lo=5 / D_hi=12, 1 s heartbeat, no automatic
redials. A script subclasses PubsubPeer, says how a received message is reported and what a stdin line publishes, and
calls run_peer(). The scripts import this module from their own directory (Python puts it first on sys.path), which
is how the test bundle ships them: the whole Interop/ folder is copied as a resource.

Stock py-libp2p cannot handle anonymous (StrictNoSign) messages: it always sets from and seqno, keys its message
cache by from||seqno and drops a second message with the same empty from||seqno as equivocation. IdKeyedCache and
Router adjust those places; PubsubPeer.publish_bare publishes such a message.
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
    """Prints one JSON line for the test."""
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def sha256_id(msg: rpc_pb2.Message) -> bytes:
    """StrictNoSign's message ID: SHA-256 of the data."""
    return hashlib.sha256(msg.data).digest()


def author_seqno_id(msg: rpc_pb2.Message) -> bytes:
    """The default message ID of signed messages: from || seqno."""
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


class PubsubPeer:
    """A GossipSub peer on one topic that reports what it sees as JSON lines and publishes what stdin asks for.

    Subclasses implement report(msg, msg_id) and handle_line(line)."""

    def __init__(self, args: argparse.Namespace, topic: str, id_fn, strict_signing: bool, id_keyed_cache: bool) -> None:
        self.args = args
        self.topic = topic
        self.id_fn = id_fn
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
        if id_keyed_cache:
            self.router.mcache = IdKeyedCache(id_fn)
        self.pubsub = ReportingPubsub(self.host, self.router, strict_signing=strict_signing, msg_id_constructor=id_fn)
        self.own: set[bytes] = set()

    def report(self, msg: rpc_pb2.Message, msg_id: bytes) -> None:
        raise NotImplementedError

    async def handle_line(self, line: bytes) -> None:
        raise NotImplementedError

    async def publish_bare(self, data: bytes) -> bytes:
        """Publishes a message with only data and topic (no from, seqno, signature or key); returns its ID."""
        msg = rpc_pb2.Message(data=data, topicIDs=[self.topic])
        msg_id = self.id_fn(msg)
        self.own.add(msg_id)
        await self.pubsub.push_msg(self.me, msg)
        return msg_id

    async def receive(self) -> None:
        subscription = await self.pubsub.subscribe(self.topic)
        while True:
            msg = await subscription.get()
            msg_id = self.id_fn(msg)
            if msg_id in self.own:
                continue  # py-libp2p hands our own publishes to local subscribers too
            self.report(msg, msg_id)

    async def watch_mesh(self) -> None:
        last: list[str] | None = None
        while True:
            peers = sorted(str(p) for p in self.router.mesh.get(self.topic, ()))
            if peers != last:
                say("mesh", topic=self.topic, peers=peers)
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

    async def read_stdin(self, done: trio.Event) -> None:
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.buffer.readline, abandon_on_cancel=True)
            if not line:
                break
            await self.handle_line(line)
        done.set()

    async def run(self) -> None:
        """Serves until stdin closes or --duration passes (so a forgotten peer always ends)."""
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


def argument_parser(description: str, duration: float) -> argparse.ArgumentParser:
    """The options every pubsub peer takes: --listen (repeatable), --dial (repeatable), --duration seconds."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", action="append", default=None)
    parser.add_argument("--dial", action="append", default=[])
    parser.add_argument("--duration", type=float, default=duration)
    return parser


def run_peer(make_peer, args: argparse.Namespace) -> None:
    """Runs the peer that make_peer(args) builds, listening on loopback unless --listen says otherwise."""
    args.listen = args.listen or ["/ip4/127.0.0.1/tcp/0"]
    trio.run(make_peer(args).run)
