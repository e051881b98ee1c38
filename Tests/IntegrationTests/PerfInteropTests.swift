import Foundation
import P2PCore
import P2PHost
import Testing

@Suite("/perf/1.0.0 with py-libp2p 0.8.1", .tags(.integration), .serialized)
struct PerfInteropTests {
    /// Odd sizes, so a server that sends whole 64 KiB blocks or drops a partial one is caught.
    private static let uploadBytes: UInt64 = 300_007
    private static let downloadBytes: UInt64 = 1_000_003

    private func startPythonPeer(_ arguments: [String]) throws -> Subprocess {
        let python = try IntegrationPaths.interopPython()
        let script = try IntegrationPaths.interopScript()
        return try Subprocess(executable: python, arguments: [script.path] + arguments)
    }

    @Test("Our perf client gets exactly the requested bytes back from py-libp2p's perf server", .timeLimit(.minutes(1)))
    func ourClientPythonServer() async throws {
        let python = try self.startPythonPeer(["--duration", "45"])
        defer { python.stop() }
        let listening = try await python.next("listening")
        let address = try Multiaddr(parsing: try #require((listening["addrs"] as? [any Sendable])?.first as? String))
        let host = try LibP2PHost(identity: PrivateKey())
        try await host.start()
        try await withShutdown(of: host) {
            let peer = try await host.dial(address)
            let result = try await host.perf(to: peer, uploadBytes: Self.uploadBytes, downloadBytes: Self.downloadBytes)
            #expect(result.uploadedBytes == Self.uploadBytes)
            #expect(result.downloadedBytes == Self.downloadBytes)
            #expect(result.downloadDuration > .zero)
            // Nothing to send back works too.
            let empty = try await host.perf(to: peer, uploadBytes: 10, downloadBytes: 0)
            #expect(empty.downloadedBytes == 0)
        }
    }

    @Test("py-libp2p's perf client gets exactly the requested bytes back from our perf server", .timeLimit(.minutes(1)))
    func pythonClientOurServer() async throws {
        let host = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
        )
        try await host.start()
        try await withShutdown(of: host) {
            let address = try #require(host.listenAddresses.first)
            let python = try self.startPythonPeer([
                "--dial", address.description, "--ping-count", "0", "--perf-upload", "\(Self.uploadBytes)",
                "--perf-download", "\(Self.downloadBytes)", "--duration", "40",
            ])
            defer { python.stop() }
            let perf = try await python.next("perf")
            #expect(perf["upload_bytes"] as? Double == Double(Self.uploadBytes))
            #expect(perf["download_bytes"] as? Double == Double(Self.downloadBytes))
            #expect((perf["seconds"] as? Double ?? 0) > 0)
            _ = try await python.next("done")
        }
    }
}
