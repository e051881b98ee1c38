public import Foundation

/// How time is cut into epochs. Epoch n covers `[origin + n·length, origin + (n+1)·length)`, with the
/// origin at Monday 1970-01-05 00:00 UTC, so with the default length of one week every epoch starts on a
/// Monday at 00:00 UTC (like an ISO week). Demo networks use shorter epochs.
public struct EpochSchedule: Hashable, Sendable {
    /// Monday 1970-01-05 00:00:00 UTC.
    public static let origin = Date(timeIntervalSince1970: 345_600)
    /// One week, in seconds: the public network's epoch length.
    public static let weekSeconds: Int64 = 604_800
    /// The shortest allowed epoch (one minute, for demos and tests).
    public static let minimumLengthSeconds: Int64 = 60
    /// The longest allowed epoch (52 weeks).
    public static let maximumLengthSeconds: Int64 = 52 * weekSeconds

    /// The weekly schedule of the public network.
    public static let weekly = EpochSchedule(validLengthSeconds: weekSeconds)

    /// The epoch length in seconds.
    public let lengthSeconds: Int64

    /// The shortest epoch of a network labelled as a demo or test (``NetworkParameters/isDemoOrTest``): a
    /// time-lapse of the weekly cycle, so one minute holds several epochs.
    public static let minimumDemoLengthSeconds: Int64 = 5

    /// A schedule with epochs of `lengthSeconds`.
    /// - Throws: ``EpochScheduleError/lengthOutOfRange(_:)`` outside one minute to 52 weeks.
    public init(lengthSeconds: Int64) throws(EpochScheduleError) {
        try self.init(lengthSeconds: lengthSeconds, demo: false)
    }

    /// A schedule with epochs of `lengthSeconds`; with `demo`, epochs down to ``minimumDemoLengthSeconds``.
    /// - Throws: ``EpochScheduleError/lengthOutOfRange(_:)`` outside the allowed range.
    public init(lengthSeconds: Int64, demo: Bool) throws(EpochScheduleError) {
        let minimum = demo ? Self.minimumDemoLengthSeconds : Self.minimumLengthSeconds
        guard (minimum...Self.maximumLengthSeconds).contains(lengthSeconds) else {
            throw .lengthOutOfRange(lengthSeconds)
        }
        self.lengthSeconds = lengthSeconds
    }

    private init(validLengthSeconds: Int64) {
        self.lengthSeconds = validLengthSeconds
    }

    /// The epoch that contains `date`.
    /// - Throws: ``EpochScheduleError/outOfRange`` before the origin or past the last 32-bit epoch.
    public func epoch(containing date: Date) throws(EpochScheduleError) -> UInt32 {
        let offset = date.timeIntervalSince(Self.origin)
        guard offset.isFinite, offset >= 0 else { throw .outOfRange }
        let index = (offset / Double(self.lengthSeconds)).rounded(.down)
        guard index <= Double(UInt32.max) else { throw .outOfRange }
        return UInt32(index)
    }

    /// The first instant of `epoch`.
    public func start(of epoch: UInt32) -> Date {
        Self.origin.addingTimeInterval(Double(Int64(epoch) * self.lengthSeconds))
    }

    /// The first instant after `epoch`.
    public func end(of epoch: UInt32) -> Date {
        Self.origin.addingTimeInterval(Double((Int64(epoch) + 1) * self.lengthSeconds))
    }
}

/// An epoch schedule read against an injected clock (the wall clock in production, a fixed or manual
/// one in tests).
public struct EpochClock: Sendable {
    /// The schedule.
    public let schedule: EpochSchedule
    /// The current time.
    public let now: @Sendable () -> Date

    /// A clock over `schedule` reading time from `now`.
    public init(schedule: EpochSchedule, now: @escaping @Sendable () -> Date) {
        self.schedule = schedule
        self.now = now
    }

    /// The epoch containing the current time.
    public func currentEpoch() throws(EpochScheduleError) -> UInt32 {
        try self.schedule.epoch(containing: self.now())
    }
}

/// Why an epoch could not be computed.
public enum EpochScheduleError: Error, Equatable, CustomStringConvertible {
    /// An epoch length outside one minute to 52 weeks (seconds).
    case lengthOutOfRange(Int64)
    /// A time before the schedule's origin or beyond the last 32-bit epoch number.
    case outOfRange

    public var description: String {
        switch self {
        case .lengthOutOfRange(let seconds):
            "epoch length \(seconds) s is out of range (allowed: \(EpochSchedule.minimumLengthSeconds)..."
                + "\(EpochSchedule.maximumLengthSeconds) s)"
        case .outOfRange: "time is outside the epoch numbering (before 1970-01-05 or too far in the future)"
        }
    }
}
