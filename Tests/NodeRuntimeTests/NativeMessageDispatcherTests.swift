import Foundation
import NodeRuntime
import Synchronization
import Testing

/// A NodeControl that answers from canned values and records what it was asked.
final class FakeNodeControl: NodeControl {
    let calls = Mutex<[String]>([])
    let failure: NodeRuntimeError?
    let bigAnswer: Bool

    init(failure: NodeRuntimeError? = nil, bigAnswer: Bool = false) {
        self.failure = failure
        self.bigAnswer = bigAnswer
    }

    private func answer(_ name: String, _ extra: NativeJSON = .null) throws -> NativeJSON {
        self.calls.withLock { $0.append(name) }
        if let failure { throw failure }
        if self.bigAnswer { return .string(String(repeating: "x", count: 1_000_001)) }
        return .object(["answer": .string(name), "extra": extra])
    }

    func status() async throws -> NativeJSON { try self.answer("status") }
    func stats() async throws -> NativeJSON { try self.answer("stats") }
    func comparison() async throws -> NativeJSON { try self.answer("comparison") }
    func insights() async throws -> NativeJSON { try self.answer("insights") }
    func submitReport(_ reportJSON: NativeJSON) async throws -> NativeJSON {
        try self.answer("submitReport", reportJSON["score"] ?? .null)
    }
    func updateSettings(_ change: SettingsChange) async throws -> NativeJSON {
        try self.answer("updateSettings", .number(Double(change.maxConnections ?? -1)))
    }
}

@Suite("Native messaging dispatcher")
struct NativeMessageDispatcherTests {
    private static func reply(_ text: String, control: FakeNodeControl = FakeNodeControl()) async throws -> NativeJSON {
        let bytes = await NativeMessageDispatcher(control: control).reply(toMessage: Array(text.utf8))
        #expect(bytes.count <= NativeMessageFraming.maximumOutgoingBytes)
        return try NativeJSON(parsing: bytes)
    }

    private static func errorCode(_ reply: NativeJSON) -> String? {
        guard reply["ok"] == .bool(false) else { return nil }
        return reply["error"]?["code"]?.stringValue
    }

    @Test(
        "Each read request reaches the node and its answer comes back with the request's id and type",
        arguments: [
            ("getStatus", "status"), ("getStats", "stats"), ("getComparison", "comparison"),
            ("getInsights", "insights"),
        ]
    )
    func readRequests(type: String, call: String) async throws {
        let control = FakeNodeControl()
        let reply = try await Self.reply(#"{"id": "r-7", "type": "\#(type)"}"#, control: control)
        #expect(reply["ok"] == .bool(true))
        #expect(reply["id"] == .string("r-7"))
        #expect(reply["type"] == .string(type))
        #expect(reply["result"]?["answer"] == .string(call))
        #expect(control.calls.withLock { $0 } == [call])
    }

    @Test("submitReport validates the report before sending it to the node")
    func submitReport() async throws {
        let control = FakeNodeControl()
        let reply = try await Self.reply(
            #"{"id": 3, "type": "submitReport", "report": \#(exampleReportJSON)}"#,
            control: control
        )
        #expect(reply["ok"] == .bool(true) && reply["id"] == .number(3))
        #expect(reply["result"]?["extra"] == .number(82))

        let invalid = try await Self.reply(
            #"{"id": 4, "type": "submitReport", "report": {"score": 140}}"#,
            control: control
        )
        #expect(Self.errorCode(invalid) == "invalid_report")
        #expect(invalid["id"] == .number(4))
        let missing = try await Self.reply(#"{"type": "submitReport"}"#, control: control)
        #expect(Self.errorCode(missing) == "invalid_report")
        #expect(control.calls.withLock { $0 } == ["submitReport"])
    }

    @Test("updateSettings accepts known settings only, with the right types and ranges")
    func updateSettings() async throws {
        let control = FakeNodeControl()
        let ok = try await Self.reply(
            #"{"type": "updateSettings", "settings": {"shareAnonymousData": true, "maxConnections": 8}}"#,
            control: control
        )
        #expect(ok["ok"] == .bool(true) && ok["result"]?["extra"] == .number(8))
        for bad in [
            #"{"maxConnections": 0}"#, #"{"maxConnections": 2.5}"#, #"{"shareAnonymousData": "yes"}"#,
            #"{"uploadEverything": true}"#, "{}", "[]",
        ] {
            let reply = try await Self.reply(#"{"type": "updateSettings", "settings": \#(bad)}"#, control: control)
            #expect(Self.errorCode(reply) == "invalid_settings", "\(bad)")
        }
        #expect(control.calls.withLock { $0 } == ["updateSettings"])
    }

    @Test(
        "Garbage gets an error reply naming the problem, and the node is not called",
        arguments: [
            ("{not json", "malformed_json"), ("", "malformed_json"), ("\u{FF}", "malformed_json"),
            ("[1, 2]", "invalid_request"), (#"{"id": 1}"#, "invalid_request"), (#"{"type": 5}"#, "invalid_request"),
            (#"{"type": "rm -rf"}"#, "unknown_type"),
            (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "malformed_json"),
        ]
    )
    func garbage(text: String, code: String) async throws {
        let control = FakeNodeControl()
        let reply = try await Self.reply(text, control: control)
        #expect(Self.errorCode(reply) == code)
        #expect(reply["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(control.calls.withLock { $0 }.isEmpty)
    }

    @Test("Invalid UTF-8 bytes get a malformed_json reply")
    func invalidUTF8() async throws {
        let bytes = await NativeMessageDispatcher(control: FakeNodeControl()).reply(toMessage: [0x7B, 0xC3, 0x28, 0x7D])
        #expect(Self.errorCode(try NativeJSON(parsing: bytes)) == "malformed_json")
    }

    @Test("A node that is not running gives node_not_running; other node errors give node_error")
    func nodeFailures() async throws {
        let notRunning = FakeNodeControl(failure: NodeRuntimeError(.nodeNotRunning, "the node is not running"))
        let reply = try await Self.reply(#"{"id": "a", "type": "getStats"}"#, control: notRunning)
        #expect(Self.errorCode(reply) == "node_not_running")
        #expect(reply["error"]?["message"] == .string("the node is not running"))
        #expect(reply["id"] == .string("a") && reply["type"] == .string("getStats"))
        let failing = FakeNodeControl(failure: NodeRuntimeError(.nodeRequestFailed, "answered 500"))
        #expect(Self.errorCode(try await Self.reply(#"{"type": "getStats"}"#, control: failing)) == "node_error")
    }

    @Test("An answer above 1 MB becomes a response_too_large error that fits")
    func tooLarge() async throws {
        let reply = try await Self.reply(
            #"{"id": 9, "type": "getInsights"}"#,
            control: FakeNodeControl(bigAnswer: true)
        )
        #expect(Self.errorCode(reply) == "response_too_large")
        #expect(reply["id"] == .number(9))
        let hugeID = String(repeating: "i", count: 1_000_100)
        let echo = try await Self.reply(#"{"id": "\#(hugeID)", "type": "nope"}"#)
        #expect(Self.errorCode(echo) == "response_too_large" && echo["id"] == .null)
    }

    @Test("The host loop answers every frame, keeps reading after bad ones, and reports a truncated end")
    func hostLoop() async throws {
        let good = try NativeMessageFraming.frame(Array(#"{"id": 1, "type": "getStatus"}"#.utf8))
        let garbage = try NativeMessageFraming.frame(Array("}{".utf8))
        let oversized = withUnsafeBytes(of: UInt32(2 << 20)) { Array($0) } + [UInt8](repeating: 0, count: 2 << 20)
        let last = try NativeMessageFraming.frame(Array(#"{"id": 2, "type": "getStats"}"#.utf8))
        let stream = good + garbage + oversized + last + [7, 0, 0]
        // Deliver in uneven chunks.
        let chunks = stride(from: 0, to: stream.count, by: 777).map { Array(stream[$0..<min($0 + 777, stream.count)]) }
        let input = AsyncThrowingStream<[UInt8], any Error> { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        let collected = Mutex<[UInt8]>([])
        let control = FakeNodeControl()
        let summary = try await NativeHost.run(input: input, dispatcher: NativeMessageDispatcher(control: control)) {
            bytes in collected.withLock { $0 += bytes }
        }
        #expect(summary.replies == 5)
        #expect(summary.ending == .truncated(missingBytes: 1))
        var decoder = NativeMessageFrameDecoder()
        decoder.append(collected.withLock { $0 })
        var replies: [NativeJSON] = []
        while case .message(let bytes) = decoder.next() { replies.append(try NativeJSON(parsing: bytes)) }
        #expect(decoder.finish() == .clean)
        #expect(replies.map { $0["ok"] } == [.bool(true), .bool(false), .bool(false), .bool(true), .bool(false)])
        #expect(replies.compactMap(Self.errorCode) == ["malformed_json", "message_too_large", "truncated_message"])
        #expect(replies[3]["id"] == .number(2))
        #expect(control.calls.withLock { $0 } == ["status", "stats"])
    }

    @Test("LocalNodeClient with no node running fails with node_not_running, also for a stale endpoint file")
    func noNodeRunning() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let dispatcher = NativeMessageDispatcher(control: LocalNodeClient(directory: directory))
        let reply = try NativeJSON(parsing: await dispatcher.reply(toMessage: Array(#"{"type":"getStatus"}"#.utf8)))
        #expect(Self.errorCode(reply) == "node_not_running")
        #expect(reply["error"]?["message"]?.stringValue?.contains("phantom-trail node") == true)

        // A pid no process can have (above Linux's pid_max): the file is left from an earlier run.
        try NodeEndpoint(url: "http://127.0.0.1:9/", pid: 2_000_000_000).write(to: directory)
        let stale = try NativeJSON(parsing: await dispatcher.reply(toMessage: Array(#"{"type":"getStats"}"#.utf8)))
        #expect(Self.errorCode(stale) == "node_not_running")
        #expect(stale["error"]?["message"]?.stringValue?.contains("earlier run") == true)
    }
}
