public import NIOCore

/// The Dandelion++ parameters of the stem relay (privacy-design.md, "Who sees the author"; Fanti et al.,
/// "Dandelion++", 2018, section 4).
public struct StemRelayConfiguration: Hashable, Sendable {
    /// The allowed fluff probabilities (privacy-design.md: 0.1–0.2).
    public static let fluffProbabilityRange = 0.1...0.2

    /// The probability that a node is a diffuser for a whole stem epoch (it then fluffs every relayed report).
    /// The decision is made once per node per stem epoch, as Dandelion++ recommends (the per-message coin of
    /// the original Dandelion lets an adversary link messages through the shape of their paths).
    public var fluffProbability: Double
    /// How many outbound peers relay stem messages in one stem epoch (Dandelion++: 2, a 4-regular graph).
    public var relayCount: Int
    /// The length of a stem epoch, after which relays, routes and the diffuser decision are drawn again
    /// (Dandelion++ and Grin: 10 minutes). Unrelated to the report epoch.
    public var stemEpochLength: TimeAmount
    /// The mean of the exponential embargo timer each stem holder starts; when it fires before the report
    /// was seen in gossip, the holder fluffs the report itself.
    public var embargoMean: TimeAmount
    /// How many recently handled report ids the machine remembers to ignore late copies.
    public var seenCapacity: Int

    /// The longest mean embargo (privacy-design.md's public network: 30 s).
    public static let maximumEmbargoMean: TimeAmount = .seconds(30)
    /// The longest stem epoch (Dandelion++ and Grin: 10 minutes).
    public static let maximumStemEpochLength: TimeAmount = .minutes(10)

    /// The defaults scaled to a network whose report epochs last `epochLengthSeconds`: the mean embargo is
    /// min(30 s, epoch / 20) and the stem epoch min(10 min, epoch), so a labelled demo or test network with
    /// 20-second epochs holds a relay-less report for about a second, not for half its epoch. The public
    /// network (weekly epochs) gets the plain defaults. `embargoAtMost` caps the mean embargo further (the demo's
    /// synthetic peers: 2 s, so a report whose stem hop failed still reaches the user's node soon).
    public static func scaled(
        toEpochLengthSeconds epochLengthSeconds: Int64,
        embargoAtMost: TimeAmount = Self.maximumEmbargoMean
    ) -> StemRelayConfiguration {
        let epoch = TimeAmount.seconds(max(1, epochLengthSeconds))
        let embargo = TimeAmount.nanoseconds(
            max(
                TimeAmount.milliseconds(50).nanoseconds,
                min(Self.maximumEmbargoMean.nanoseconds, embargoAtMost.nanoseconds, epoch.nanoseconds / 20)
            )
        )
        let stemEpoch = TimeAmount.nanoseconds(min(Self.maximumStemEpochLength.nanoseconds, epoch.nanoseconds))
        // Both durations are positive and the other values are the defaults: this cannot throw.
        return try! StemRelayConfiguration(stemEpochLength: stemEpoch, embargoMean: embargo)
    }

    /// The defaults: q = 0.1, 2 relays, 10-minute stem epochs, a 30 s mean embargo.
    /// - Throws: ``PrivacyNetworkError/Code/invalidArgument`` for q outside 0.1–0.2, a relay count outside 1–2,
    ///   or a non-positive duration.
    public init(
        fluffProbability: Double = 0.1,
        relayCount: Int = 2,
        stemEpochLength: TimeAmount = .minutes(10),
        embargoMean: TimeAmount = .seconds(30),
        seenCapacity: Int = 16_384
    ) throws(PrivacyNetworkError) {
        guard Self.fluffProbabilityRange.contains(fluffProbability) else {
            throw PrivacyNetworkError(
                .invalidArgument,
                "fluff probability \(fluffProbability) is outside \(Self.fluffProbabilityRange)"
            )
        }
        guard (1...2).contains(relayCount) else {
            throw PrivacyNetworkError(.invalidArgument, "relay count \(relayCount) is outside 1...2")
        }
        guard stemEpochLength > .zero, embargoMean > .zero else {
            throw PrivacyNetworkError(.invalidArgument, "stem epoch length and embargo mean must be positive")
        }
        self.fluffProbability = fluffProbability
        self.relayCount = relayCount
        self.stemEpochLength = stemEpochLength
        self.embargoMean = embargoMean
        self.seenCapacity = max(1, seenCapacity)
    }
}
