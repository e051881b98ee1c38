"""A py-libp2p (0.8.1) peer with mDNS discovery, for Phantom Trail's mDNS interop test.

py-libp2p's mDNS (libp2p/discovery/mdns, built on python-zeroconf) normally binds every interface; here
zeroconf is limited to 127.0.0.1 and the advertised A record to 127.0.0.1, so no packet leaves the machine.
Every event is one JSON line on stdout; the first is "listening". Then "mdns_discovered" for each peer
py-libp2p's listener resolves, and with --dial PEER_ID a "connected" once that peer, when discovered, has
been dialed at its advertised address.

    python interop_mdns.py [--listen MA] [--dial PEER_ID] [--duration S]
"""

import argparse
import functools
import json
import queue
import signal
import sys

import multiaddr
import trio
import zeroconf

import libp2p.discovery.mdns.broadcaster as mdns_broadcaster
import libp2p.discovery.mdns.mdns as mdns_module
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
from libp2p.discovery.events.peerDiscovery import peerDiscovery
from libp2p.peer.peerinfo import PeerInfo
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL, Transport as Noise
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL, Yamux


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def loopback_only():
    """Keep zeroconf (and the addresses py-libp2p advertises) on 127.0.0.1."""
    mdns_module.Zeroconf = functools.partial(zeroconf.Zeroconf, interfaces=["127.0.0.1"])
    mdns_broadcaster.PeerBroadcaster._get_local_ips = lambda self: ["127.0.0.1"]


async def main(args):
    loopback_only()
    found = queue.SimpleQueue()
    # Discoveries arrive on zeroconf's thread; register before new_host() starts the browser.
    peerDiscovery.register_peer_discovered_handler(found.put)
    key_pair = create_new_key_pair()
    listen = [multiaddr.Multiaddr(args.listen)]
    host = new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL: Noise(key_pair, noise_privkey=create_x25519_key_pair().private_key)},
        muxer_opt={YAMUX_PROTOCOL: Yamux},
        listen_addrs=listen,
        enable_mDNS=True,
    )
    async with host.run(listen_addrs=listen):
        emit("listening", peer_id=str(host.get_id()), addrs=[str(a) for a in host.get_addrs()])
        dialed = False
        with trio.move_on_after(args.duration):
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with trio.open_nursery() as nursery:

                    async def stop_on_signal():
                        async for _ in signals:
                            nursery.cancel_scope.cancel()
                            return

                    nursery.start_soon(stop_on_signal)
                    while True:
                        while not found.empty():
                            info = found.get_nowait()
                            addrs = [str(a) for a in info.addrs]
                            emit("mdns_discovered", peer_id=str(info.peer_id), addrs=addrs)
                            if args.dial and str(info.peer_id) == args.dial and not dialed:
                                dialed = True
                                try:
                                    await host.connect(PeerInfo(info.peer_id, info.addrs))
                                    emit("connected", peer_id=str(info.peer_id))
                                except Exception as exc:
                                    emit("error", op="dial", error=repr(exc))
                        await trio.sleep(0.05)
    emit("exit")


def cli():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    parser.add_argument("--dial", help="dial this peer ID once mDNS discovers it")
    parser.add_argument("--duration", type=float, default=60)
    # A parent may start us with these signals blocked (the mask is inherited); we want to see them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    trio.run(main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(cli())
