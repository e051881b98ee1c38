import NIOCore
import NIOEmbedded
import Testing

@testable import P2PYamux

@Suite("Yamux session, async surface")
struct YamuxSessionAsyncTests {
    @Test("an async stream is echoed by the peer's inbound async stream", .timeLimit(.minutes(1)))
    func asyncEcho() async throws {
        let configuration = {
            var configuration = YamuxConfiguration()
            configuration.keepaliveInterval = nil
            return configuration
        }()
        let loop = NIOAsyncTestingEventLoop()
        let client = NIOAsyncTestingChannel(loop: loop)
        let server = NIOAsyncTestingChannel(loop: loop)
        let clientSession = try await loop.executeInContext {
            try client.pipeline.syncOperations.configureYamux(role: .client, configuration: configuration)
        }
        let serverSession = try await loop.executeInContext {
            try server.pipeline.syncOperations.configureYamux(role: .server, configuration: configuration)
        }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try await client.connect(to: address)
        try await server.connect(to: address)

        try await withThrowingTaskGroup(of: Void.self) { group in
            // Moves bytes between the two channels until the test body is done.
            group.addTask {
                while !Task.isCancelled {
                    var moved = false
                    while let buffer = try await client.readOutbound(as: ByteBuffer.self) {
                        try await server.writeInbound(buffer)
                        moved = true
                    }
                    while let buffer = try await server.readOutbound(as: ByteBuffer.self) {
                        try await client.writeInbound(buffer)
                        moved = true
                    }
                    if !moved { await Task.yield() }
                }
            }
            // The server echoes its first inbound stream.
            group.addTask {
                for await stream in serverSession.inbound {
                    try await stream.executeThenClose { inbound, outbound in
                        for try await buffer in inbound {
                            try await outbound.write(buffer)
                        }
                    }
                    return
                }
            }

            let stream = try await clientSession.openStream()
            let echoed = try await stream.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "hello "))
                try await outbound.write(ByteBuffer(string: "async yamux"))
                outbound.finish()
                var collected = ByteBuffer()
                for try await var buffer in inbound {
                    collected.writeBuffer(&buffer)
                }
                return collected
            }
            #expect(echoed == ByteBuffer(string: "hello async yamux"))
            group.cancelAll()
        }
        await loop.shutdownGracefully()
    }
}
