import ArgumentParser
import Dispatch
import Foundation
import P2PCore
import P2PHost

/// `phantom-trail p2p`: tools for the libp2p side of the node: identity, listening and ping.
struct P2PCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p",
        abstract: "libp2p tools: identities, a listening host and ping.",
        subcommands: [ID.self, Listen.self, Ping.self, Pubsub.self]
    )
}

extension P2PCommand {
    /// `phantom-trail p2p id`: prints a freshly generated identity as one JSON line.
    struct ID: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: "Generate a new Ed25519 identity and print its peer ID as JSON: {\"peer_id\": \"12D3KooW…\"}."
        )

        mutating func run() throws {
            let peerID = PeerID(publicKey: PrivateKey().publicKey)
            print(Self.jsonLine(peerID: peerID))
        }

        /// The output contract: exactly `{"peer_id": "<base58btc peer ID>"}`.
        ///
        /// Base58btc text never contains characters that need JSON escaping.
        static func jsonLine(peerID: PeerID) -> String {
            "{\"peer_id\": \"\(peerID)\"}"
        }
    }

    /// `phantom-trail p2p listen`: runs a host and prints its events.
    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "listen",
            abstract: "Run a libp2p host (TCP, Noise, Yamux, identify, ping) and print its events.",
            discussion: """
                With --json every line is one JSON object: first {"event":"listening","peer_id":…,"addrs":[…]}, \
                then peer_connected, peer_disconnected, identify and error events. Runs until SIGINT, SIGTERM \
                or --duration.
                """
        )

        @Option(name: .customLong("listen"), help: "A multiaddr to listen on (repeatable).")
        var listen: [String] = ["/ip4/127.0.0.1/tcp/0"]

        @Flag(help: "Print JSON lines.")
        var json = false

        @Option(help: "Stop after this many seconds.")
        var duration: Double?

        func validate() throws {
            for text in self.listen {
                guard let address = try? Multiaddr(parsing: text), address.tcpSocketAddress != nil else {
                    throw ValidationError("--listen \(text) is not an /ip4 or /ip6 multiaddr with /tcp")
                }
            }
            if let duration, !(duration > 0) {
                throw ValidationError("--duration must be a positive number of seconds")
            }
        }

        func run() async throws {
            let output = P2PEventPrinter(json: self.json)
            let addresses = try self.listen.map { try Multiaddr(parsing: $0) }
            let host = try LibP2PHost(
                identity: PrivateKey(),
                configuration: HostConfiguration(
                    listenAddresses: addresses,
                    agentVersion: "phantom-trail/\(PhantomTrailVersion.current)"
                )
            )
            do {
                try await host.start()
            } catch {
                output.failure("\(error)")
                throw ExitCode.failure
            }
            output.listening(peer: host.peerID, addresses: host.listenAddresses)
            let duration = self.duration
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in host.events {
                        output.event(event)
                    }
                }
                group.addTask {
                    await waitForTerminationSignal(orSeconds: duration)
                    await host.shutdown()
                }
                await group.waitForAll()
            }
        }
    }

    /// `phantom-trail p2p ping`: dials a peer, identifies it and pings it.
    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ping",
            abstract: "Dial a libp2p peer, identify it and ping it; exits non-zero with a reason on any failure.",
            discussion: """
                With --json the lines are peer_connected, identify, ping ({"event":"ping","peer_id":…,\
                "rtt_ms":…}) and, on failure, {"event":"error","message":…}.
                """
        )

        @Argument(help: "The peer's multiaddr, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…")
        var address: String

        @Option(help: "How many pings to send.")
        var count = 1

        @Flag(help: "Print JSON lines.")
        var json = false

        @Option(help: "Give up after this many seconds.")
        var timeout: Double = 15

        func validate() throws {
            guard let address = try? Multiaddr(parsing: self.address), address.tcpSocketAddress != nil else {
                throw ValidationError("\(self.address) is not an /ip4 or /ip6 multiaddr with /tcp")
            }
            guard (1...1000).contains(self.count) else {
                throw ValidationError("--count must be between 1 and 1000")
            }
            guard self.timeout > 0 else {
                throw ValidationError("--timeout must be a positive number of seconds")
            }
        }

        func run() async throws {
            let output = P2PEventPrinter(json: self.json)
            let address = try Multiaddr(parsing: self.address)
            let host = try LibP2PHost(
                identity: PrivateKey(),
                configuration: HostConfiguration(agentVersion: "phantom-trail/\(PhantomTrailVersion.current)")
            )
            let count = self.count
            let timeout = self.timeout
            let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
                group.addTask {
                    do {
                        try await host.start()
                        try await Self.dialIdentifyPing(host: host, address: address, count: count, output: output)
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    return Task.isCancelled ? nil : .failure(P2PPingTimeout(seconds: timeout))
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? .failure(P2PPingTimeout(seconds: timeout))
            }
            await host.shutdown()
            if case .failure(let error) = outcome {
                output.failure("\(error)")
                throw ExitCode.failure
            }
        }

        private static func dialIdentifyPing(
            host: LibP2PHost,
            address: Multiaddr,
            count: Int,
            output: P2PEventPrinter
        ) async throws {
            let peer = try await host.dial(address)
            // Failures are not printed here: the caller prints the one-line reason once.
            eventLoop: for await event in host.events {
                switch event {
                case .identified(let identified, _, _, _) where identified == peer:
                    output.event(event)
                    break eventLoop
                case .error(let message, let failed) where failed == peer:
                    throw P2PCommandFailure(message: message)
                case .peerDisconnected(let gone) where gone == peer:
                    throw P2PCommandFailure(message: "\(peer) disconnected before identify finished")
                default:
                    output.event(event)
                }
            }
            for rtt in try await host.ping(peer, count: count) {
                output.ping(peer: peer, rtt: rtt)
            }
        }
    }
}

/// A failure with a one-line reason.
struct P2PCommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// The ping command ran out of time.
struct P2PPingTimeout: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "timed out after \(seconds) s" }
}

/// Waits for SIGINT or SIGTERM, or until `seconds` passed.
func waitForTerminationSignal(orSeconds seconds: Double?) async {
    let (stream, continuation) = AsyncStream<Void>.makeStream()
    var sources: [any DispatchSourceSignal] = []
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        sources.append(source)
    }
    if let seconds {
        // Bridge: this timer task is cancelled below as soon as either a signal or the timer ends the wait.
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            continuation.yield()
        }
        for await _ in stream { break }
        timer.cancel()
    } else {
        for await _ in stream { break }
    }
    for source in sources {
        source.cancel()
    }
}
