/// Runs `body`, failing with ``PrivacyNetworkError/Code/timedOut`` if it does not finish within `timeout` on
/// `clock`. The body is cancelled when time runs out (a cancelled stream read closes the stream).
func withStreamDeadline<Result: Sendable>(
    _ timeout: Duration,
    clock: any Clock<Duration>,
    what: String,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await clock.sleep(for: timeout, tolerance: nil)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw PrivacyNetworkError(.timedOut, "\(what) did not finish within \(timeout)")
        }
        return result
    }
}
