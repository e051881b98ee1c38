public import NIOCore

/// A `Clock` that reads an event loop's time and sleeps on its scheduler.
///
/// On a real loop this is monotonic uptime. On a loop with virtual time (NIO's `NIOAsyncTestingEventLoop`) it is
/// that loop's virtual time: nothing sleeps for real, sleepers wake when the test advances the loop. Give the same
/// loop to a ``LibP2PHost`` as its event loop group and this clock as its clock, and every timer of the host (the
/// connection manager's idle closes and redials, the handshake and negotiation timeouts, Yamux keepalive) runs on one
/// time line.
public struct EventLoopClock: Clock, Sendable {
    /// A point in the loop's time.
    public struct Instant: InstantProtocol, Sendable {
        /// The loop's deadline for this instant.
        public var deadline: NIODeadline

        /// Wraps a deadline.
        public init(_ deadline: NIODeadline) {
            self.deadline = deadline
        }

        /// The instant `duration` later (earlier when negative; never before uptime zero).
        public func advanced(by duration: Duration) -> Instant {
            Instant(self.deadline + EventLoopClock.timeAmount(duration))
        }

        /// The duration from this instant to `other`.
        public func duration(to other: Instant) -> Duration {
            let from = Int64(clamping: self.deadline.uptimeNanoseconds)
            let to = Int64(clamping: other.deadline.uptimeNanoseconds)
            return .nanoseconds(to - from)
        }

        /// Orders instants by their deadline.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.deadline < rhs.deadline
        }
    }

    /// The loop whose time this clock reads.
    public let eventLoop: any EventLoop

    /// A clock over `eventLoop`.
    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The loop's current time.
    public var now: Instant { Instant(self.eventLoop.now) }

    /// One nanosecond, the resolution of `NIODeadline`.
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Suspends until the loop's time reaches `deadline`; throws `CancellationError` when the task is cancelled.
    ///
    /// The timer is scheduled from inside the loop, so a deadline the loop's time already passed (a test advanced it
    /// meanwhile) fires at once rather than waiting for the next advance.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let loop = self.eventLoop
        let promise = loop.makePromise(of: Void.self)
        loop.execute {
            let timer = loop.scheduleTask(deadline: deadline.deadline) {}
            timer.futureResult.cascade(to: promise)
            promise.futureResult.whenFailure { _ in timer.cancel() }
        }
        try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            // A second completion of the promise (the timer firing later) is ignored by NIO.
            promise.fail(CancellationError())
        }
    }

    /// `duration` as a `TimeAmount`, saturating at the bounds of `Int64` nanoseconds.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        guard !sumOverflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
        return .nanoseconds(sum)
    }
}
