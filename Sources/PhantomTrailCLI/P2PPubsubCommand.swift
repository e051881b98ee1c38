import ArgumentParser
import Dispatch
import Foundation
import P2PCore
import P2PGossipSub
import P2PHost

extension P2PCommand {
    /// `phantom-trail p2p pubsub`: joins a GossipSub topic, prints what arrives and publishes stdin lines.
    struct Pubsub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pubsub",
            abstract: "Join a GossipSub topic: print received messages and optionally publish each stdin line.",
            discussion: """
                With --json every line is one JSON object: first {"event":"listening","peer_id":…,"addrs":[…]}, \
                then host events (peer_connected, peer_disconnected, identify, error), \
                {"event":"peer_subscribed","peer_id":…,"topic":…} when a peer joins the topic, \
                {"event":"published","topic":…,"id":…} for each published line and \
                {"event":"message","topic":…,"data":…,"from":…} for each received message ("data" is UTF-8 \
                text, or base64 with "encoding":"base64"; "from" only for signed messages). \
                Runs until SIGINT, SIGTERM or --duration.
                """
        )

        @Option(help: "The topic to join.")
        var topic: String

        @Option(name: .customLong("listen"), help: "A multiaddr to listen on (repeatable).")
        var listen: [String] = ["/ip4/127.0.0.1/tcp/0"]

        @Option(name: .customLong("dial"), help: "A peer multiaddr ending in /p2p/<id> to connect to (repeatable).")
        var dial: [String] = []

        @Flag(help: "Publish each line read from stdin (without its newline) on the topic.")
        var publishStdin = false

        @Flag(help: "Use StrictNoSign on the topic: no author, no sequence number, message ID = SHA-256 of the data.")
        var noSign = false

        @Flag(help: "Print JSON lines.")
        var json = false

        @Option(help: "Stop after this many seconds.")
        var duration: Double?

        func validate() throws {
            guard !self.topic.isEmpty else {
                throw ValidationError("--topic must not be empty")
            }
            for text in self.listen {
                guard let address = try? Multiaddr(parsing: text), address.tcpSocketAddress != nil else {
                    throw ValidationError("--listen \(text) is not an /ip4 or /ip6 multiaddr with /tcp")
                }
            }
            for text in self.dial {
                guard let address = try? Multiaddr(parsing: text), address.tcpSocketAddress != nil else {
                    throw ValidationError("--dial \(text) is not an /ip4 or /ip6 multiaddr with /tcp")
                }
            }
            if let duration, !(duration > 0) {
                throw ValidationError("--duration must be a positive number of seconds")
            }
        }

        func run() async throws {
            let output = P2PEventPrinter(json: self.json)
            let identity = PrivateKey()
            let host = try LibP2PHost(
                identity: identity,
                configuration: HostConfiguration(
                    listenAddresses: try self.listen.map { try Multiaddr(parsing: $0) },
                    agentVersion: "phantom-trail/\(PhantomTrailVersion.current)"
                )
            )
            var configuration = GossipSubServiceConfiguration()
            if self.noSign {
                configuration.router.topics[self.topic] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
            }
            let service = try GossipSubService(
                host: host,
                identity: identity,
                configuration: configuration,
                consumesHostEvents: false
            )
            do {
                try await host.start()
            } catch {
                output.failure("\(error)")
                throw ExitCode.failure
            }
            let topic = self.topic
            let subscription = await service.subscribe(topic)
            output.listening(peer: host.peerID, addresses: host.listenAddresses)
            let dials = try self.dial.map { try Multiaddr(parsing: $0) }
            let duration = self.duration
            let publishStdin = self.publishStdin
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await service.run()
                }
                group.addTask {
                    for await event in host.events {
                        output.event(event)
                        await service.hostEventReceived(event)
                    }
                }
                group.addTask {
                    for await event in service.events {
                        if case .peerSubscribed(let peer, let joined) = event, joined == topic {
                            output.peerSubscribed(peer: peer, topic: joined)
                        }
                    }
                }
                group.addTask {
                    for await message in subscription {
                        output.message(message)
                    }
                }
                for address in dials {
                    group.addTask {
                        do {
                            _ = try await host.dial(address)
                        } catch {
                            output.failure("cannot dial \(address): \(error)")
                        }
                    }
                }
                if publishStdin {
                    group.addTask {
                        for await line in standardInputLines() {
                            do {
                                let id = try await service.publish(topic: topic, data: Array(line.utf8))
                                output.published(topic: topic, id: id)
                            } catch {
                                output.failure("cannot publish: \(error)")
                            }
                        }
                    }
                }
                await waitForTerminationSignal(orSeconds: duration)
                await host.shutdown()
                group.cancelAll()
            }
        }
    }
}

/// The lines of standard input (without newlines), read on a dispatch thread because reads block.
private func standardInputLines() -> AsyncStream<String> {
    let (stream, continuation) = AsyncStream<String>.makeStream()
    DispatchQueue.global().async {
        while let line = readLine(strippingNewline: true) {
            continuation.yield(line)
        }
        continuation.finish()
    }
    return stream
}

extension P2PEventPrinter {
    /// Prints a received message with ``messageLine(topic:data:from:)``.
    func message(_ message: GossipSubReceivedMessage) {
        self.write(self.messageLine(topic: message.topic, data: message.data, from: message.from?.description))
    }

    /// `{"event":"message","topic":…,"data":…[,"encoding":"base64"][,"from":…]}` ("data" is the UTF-8 text, or
    /// base64 when the bytes are not UTF-8; "from" only for signed messages), or a readable line.
    func messageLine(topic: String, data: [UInt8], from: String?) -> String {
        let text = String(validating: data, as: UTF8.self)
        guard self.json else {
            let body = text ?? "base64:" + Data(data).base64EncodedString()
            return "message on \(topic)\(from.map { " from \($0)" } ?? ""): \(body)"
        }
        var fields: [(String, JSONValue)] = [("event", .string("message")), ("topic", .string(topic))]
        if let text {
            fields.append(("data", .string(text)))
        } else {
            fields.append(("data", .string(Data(data).base64EncodedString())))
            fields.append(("encoding", .string("base64")))
        }
        if let from {
            fields.append(("from", .string(from)))
        }
        return Self.object(fields)
    }

    /// `{"event":"peer_subscribed","peer_id":…,"topic":…}`, or a readable line.
    func peerSubscribed(peer: PeerID, topic: String) {
        if self.json {
            self.write(
                Self.object([
                    ("event", .string("peer_subscribed")), ("peer_id", .string(peer.description)),
                    ("topic", .string(topic)),
                ])
            )
        } else {
            self.write("\(peer) joined \(topic)")
        }
    }

    /// `{"event":"published","topic":…,"id":…}` (the message ID in hex), or a readable line.
    func published(topic: String, id: GossipMessageID) {
        if self.json {
            self.write(
                Self.object([
                    ("event", .string("published")), ("topic", .string(topic)), ("id", .string(id.description)),
                ])
            )
        } else {
            self.write("published \(id) on \(topic)")
        }
    }

    private func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
