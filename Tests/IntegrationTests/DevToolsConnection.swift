import Foundation
import NIOCore
import Synchronization

/// A JSON value as the Chrome DevTools protocol sends it.
enum DevToolsJSON: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([DevToolsJSON])
    case object([String: DevToolsJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([DevToolsJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: DevToolsJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object.
    subscript(key: String) -> DevToolsJSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The text of a string.
    var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The value of a number.
    var number: Double? {
        guard case .number(let value) = self else { return nil }
        return value
    }
}

/// A protocol event the browser sent (a message without an id).
struct DevToolsEvent: Sendable {
    var method: String
    var sessionID: String?
    var params: DevToolsJSON
}

/// Why a DevTools exchange failed: the browser's error answer, a timeout, or the pipe closing.
struct DevToolsFailure: Error, CustomStringConvertible {
    var description: String
}

/// Every event the browser sent, in order, plus waiters for events still to come.
final class DevToolsEventLog: Sendable {
    private struct Waiter {
        var matches: @Sendable (DevToolsEvent) -> Bool
        var promise: EventLoopPromise<DevToolsEvent>
    }

    private struct State {
        var events: [DevToolsEvent] = []
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        var closed: String?
    }

    // Guards the events and the waiters; the handler appends from the event loop, tests read from anywhere.
    private let state = Mutex(State())

    /// Events recorded so far.
    var events: [DevToolsEvent] { self.state.withLock { $0.events } }

    /// Records `event` and completes the waiters it matches.
    func record(_ event: DevToolsEvent) {
        let matched: [EventLoopPromise<DevToolsEvent>] = self.state.withLock { state in
            state.events.append(event)
            let ids = state.waiters.filter { $0.value.matches(event) }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.promise }
        }
        for promise in matched {
            promise.succeed(event)
        }
    }

    /// Fails every waiter: the browser is gone.
    func close(reason: String) {
        let waiters = self.state.withLock { state in
            state.closed = reason
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            waiter.promise.fail(DevToolsFailure(description: reason))
        }
    }

    /// A future for the first event from now on that `matches`, failing after `timeout`. Register it before
    /// sending the command that causes the event: the event may arrive before the command's answer.
    func expect(
        on eventLoop: any EventLoop,
        timeout: TimeAmount,
        describedAs what: String,
        where matches: @escaping @Sendable (DevToolsEvent) -> Bool
    ) -> EventLoopFuture<DevToolsEvent> {
        let promise = eventLoop.makePromise(of: DevToolsEvent.self)
        let registered: Int? = self.state.withLock { state in
            guard state.closed == nil else { return nil }
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.waiters[id] = Waiter(matches: matches, promise: promise)
            return id
        }
        guard let id = registered else {
            promise.fail(DevToolsFailure(description: "the browser is gone; no \(what)"))
            return promise.futureResult
        }
        let timer = eventLoop.scheduleTask(in: timeout) {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.promise.fail(DevToolsFailure(description: "no \(what) within \(timeout)"))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }
}

/// One command on its way to the browser, with the promise its answer completes.
struct DevToolsCommand: Sendable {
    var id: Int
    var text: String
    var timeout: TimeAmount
    var answer: EventLoopPromise<DevToolsJSON>
}

/// Splits the browser's output into messages: each is a JSON text ended by a NUL byte.
struct DevToolsFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Largest message accepted (a full-page PNG screenshot in base64 is a few MiB).
    static let maximumBytes = 64 << 20

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let end = buffer.readableBytesView.firstIndex(of: 0) else {
            guard buffer.readableBytes <= Self.maximumBytes else {
                throw DevToolsFailure(description: "a DevTools message is larger than \(Self.maximumBytes) bytes")
            }
            return .needMoreData
        }
        let length = end - buffer.readerIndex
        let message = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Matches the browser's answers to commands by id, fails commands that time out, and records events.
final class DevToolsClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = DevToolsCommand
    typealias OutboundOut = ByteBuffer

    private var pending: [Int: EventLoopPromise<DevToolsJSON>] = [:]
    private let log: DevToolsEventLog

    init(log: DevToolsEventLog) {
        self.log = log
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = Self.unwrapOutboundIn(data)
        self.pending[command.id] = command.answer
        let loop = context.eventLoop.assumeIsolated()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        loop.scheduleTask(in: command.timeout) {
            handler.value.pending.removeValue(forKey: command.id)?.fail(
                DevToolsFailure(description: "no answer to command \(command.id) within \(command.timeout)")
            )
        }
        var buffer = context.channel.allocator.buffer(capacity: command.text.utf8.count + 1)
        buffer.writeString(command.text)
        buffer.writeInteger(UInt8(0))
        context.write(Self.wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        guard let message = try? JSONDecoder().decode(DevToolsJSON.self, from: Data(buffer.readableBytesView)) else {
            return
        }
        if let id = message["id"]?.number.map({ Int($0) }) {
            guard let answer = self.pending.removeValue(forKey: id) else { return }
            if let error = message["error"] {
                answer.fail(DevToolsFailure(description: "the browser refused command \(id): \(error)"))
            } else {
                answer.succeed(message["result"] ?? .null)
            }
        } else if let method = message["method"]?.string {
            self.log.record(
                DevToolsEvent(
                    method: method,
                    sessionID: message["sessionId"]?.string,
                    params: message["params"] ?? .null
                )
            )
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll("the browser closed the DevTools pipe")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll("the DevTools pipe failed: \(error)")
        context.close(promise: nil)
    }

    private func failAll(_ reason: String) {
        let pending = self.pending
        self.pending.removeAll()
        for answer in pending.values {
            answer.fail(DevToolsFailure(description: reason))
        }
        self.log.close(reason: reason)
    }
}

@available(*, unavailable)
extension DevToolsClientHandler: Sendable {}

/// The client side of a DevTools pipe: sends commands (optionally to an attached target's session) and
/// awaits their answers; events land in ``events``.
final class DevToolsConnection: Sendable {
    let channel: any Channel
    let events: DevToolsEventLog
    private let nextID = Mutex(1)

    init(channel: any Channel, events: DevToolsEventLog) {
        self.channel = channel
        self.events = events
    }

    /// Sends `method` with `params` and returns the result, failing on an error answer or after `timeout`.
    @discardableResult
    func send(
        _ method: String,
        _ params: [String: DevToolsJSON] = [:],
        session: String? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> DevToolsJSON {
        let id = self.nextID.withLock { id in
            defer { id += 1 }
            return id
        }
        var message: [String: DevToolsJSON] = [
            "id": .number(Double(id)), "method": .string(method), "params": .object(params),
        ]
        if let session { message["sessionId"] = .string(session) }
        let text = String(decoding: try JSONEncoder().encode(DevToolsJSON.object(message)), as: UTF8.self)
        let answer = self.channel.eventLoop.makePromise(of: DevToolsJSON.self)
        let command = DevToolsCommand(id: id, text: text, timeout: timeout, answer: answer)
        self.channel.writeAndFlush(command).whenFailure { answer.fail($0) }
        do {
            return try await answer.futureResult.get()
        } catch let failure as DevToolsFailure {
            throw DevToolsFailure(description: "\(method): \(failure.description)")
        }
    }

    /// A future for the first event from now on named `method` that passes `filter` (register it before
    /// sending the command that causes it).
    func expect(
        _ method: String,
        timeout: TimeAmount = .seconds(30),
        where filter: @escaping @Sendable (DevToolsEvent) -> Bool = { _ in true }
    ) -> EventLoopFuture<DevToolsEvent> {
        self.events.expect(on: self.channel.eventLoop, timeout: timeout, describedAs: "\(method) event") {
            $0.method == method && filter($0)
        }
    }
}
