import NIOCore

/// Counts a connection's open streams and remembers when the last one closed, for the idle timeout.
final class StreamTracker: Sendable {
    private struct Activity {
        var open = 0
        var idleSince = ContinuousClock.now
    }

    private let activity = LockedState(Activity())

    /// Counts `channel` as open until its close future completes.
    func track(_ channel: any Channel) {
        self.activity.withLock { $0.open += 1 }
        channel.closeFuture.whenComplete { _ in
            self.activity.withLock { activity in
                activity.open -= 1
                if activity.open == 0 {
                    activity.idleSince = ContinuousClock.now
                }
            }
        }
    }

    /// When the connection became idle, or `nil` while a stream is open.
    var idleSince: ContinuousClock.Instant? {
        self.activity.withLock { $0.open == 0 ? $0.idleSince : nil }
    }
}
