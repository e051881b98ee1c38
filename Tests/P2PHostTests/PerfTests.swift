import NIOCore
import P2PCore
import Testing

@testable import P2PHost

@Suite("Perf /perf/1.0.0 between two in-process hosts")
struct PerfTests {
    /// Starts two hosts, connects them over an in-process socket pair, runs `body`, shuts both down.
    private func withConnectedHosts(
        _ body: (LibP2PHost, LibP2PHost) async throws -> Void
    ) async throws {
        let client = try LibP2PHost(identity: PrivateKey())
        let server = try LibP2PHost(identity: PrivateKey())
        try await client.start()
        try await server.start()
        do {
            #expect(try await client.connect(inProcessTo: server) == server.peerID)
            try await body(client, server)
        } catch {
            await client.shutdown()
            await server.shutdown()
            throw error
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test("The protocol ID is the spec's and hosts serve it by default")
    func registeredByDefault() throws {
        #expect(Perf.protocolID == "/perf/1.0.0")
        let host = try LibP2PHost(identity: PrivateKey())
        #expect(host.protocols.contains("/perf/1.0.0"))
    }

    @Test(
        "The client uploads and downloads exactly the requested byte counts",
        .timeLimit(.minutes(1)),
        arguments: [(UInt64(0), UInt64(0)), (1, 0), (0, 1), (100_000, 300_001), (65_536, 65_536)]
    )
    func byteCounts(upload: UInt64, download: UInt64) async throws {
        try await self.withConnectedHosts { client, server in
            let result = try await client.perf(to: server.peerID, uploadBytes: upload, downloadBytes: download)
            #expect(result.uploadedBytes == upload)
            #expect(result.downloadedBytes == download)
            #expect(result.totalDuration == result.uploadDuration + result.downloadDuration)
        }
    }

    @Test("The server reads the whole upload before answering", .timeLimit(.minutes(1)))
    func serverCountsUpload() async throws {
        try await self.withConnectedHosts { client, server in
            let stream = try await client.newStream(to: server.peerID, protocols: ["/perf/1.0.0"])
            var request = stream.allocator.buffer(capacity: 16)
            request.writeInteger(UInt64(5), endianness: .big, as: UInt64.self)
            request.writeBytes([1, 2, 3, 4, 5, 6, 7])
            try await stream.write(request)
            try await stream.closeWrite()
            let answer = try await stream.readToEnd(maxBytes: 1024)
            #expect(answer.readableBytes == 5)
            await stream.close()
        }
    }

    @Test("A server that sends fewer bytes than requested is a protocol violation", .timeLimit(.minutes(1)))
    func shortAnswer() async throws {
        try await self.withConnectedHosts { client, server in
            server.setHandler(protocol: "/perf/1.0.0") { stream in
                _ = try await stream.read(exactly: 8)
                while try await stream.read() != nil {}
                try await stream.write(stream.allocator.buffer(repeating: 0, count: 3))
                try await stream.closeWrite()
                await stream.close()
            }
            let error = await #expect(throws: P2PHostError.self) {
                try await client.perf(to: server.peerID, uploadBytes: 10, downloadBytes: 4)
            }
            #expect(error?.code == .protocolViolation)
        }
    }

    @Test("A server that sends more bytes than requested is a protocol violation", .timeLimit(.minutes(1)))
    func longAnswer() async throws {
        try await self.withConnectedHosts { client, server in
            server.setHandler(protocol: "/perf/1.0.0") { stream in
                _ = try await stream.read(exactly: 8)
                while try await stream.read() != nil {}
                try await stream.write(stream.allocator.buffer(repeating: 0, count: 9))
                try await stream.closeWrite()
                await stream.close()
            }
            let error = await #expect(throws: P2PHostError.self) {
                try await client.perf(to: server.peerID, uploadBytes: 0, downloadBytes: 8)
            }
            #expect(error?.code == .protocolViolation)
        }
    }
}
