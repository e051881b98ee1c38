import Crypto

/// The parameters every report of one network is made with (privacy-design.md, "Envelope"): epoch
/// length, proof-of-work cost and difficulty, and the per-type ε fixed by protocol v1. The public network
/// has one fixed set; demos and tests run networks labelled as such (e.g. "demo") with short epochs and
/// low difficulty. Only a network whose label marks it as a demo or test (``isDemoOrTest``) may use epochs
/// shorter than a minute (down to ``EpochSchedule/minimumDemoLengthSeconds``): a time-lapse of the weekly
/// cycle whose figures say "demo epoch = N s".
///
/// The 32-byte ``digest`` is the scrypt salt of every report's proof of work, so a report minted for
/// other parameters fails verification here.
public struct NetworkParameters: Hashable, Sendable {
    /// The default difficulty of the public network (leading zero bits of the scrypt output): 2^8 = 256
    /// scrypt calls per report on average. Measured (release build, N = 2^12, r = 8, p = 1, on a shared
    /// 2-core Linux machine under load): one scrypt call ≈ 16 ms, so verification takes ≈ 16 ms and a mint
    /// about 3–4 s on average (32 mints: mean 3.7 s, median 2.8 s; the count of attempts is geometric).
    public static let defaultDifficultyBits = 8
    /// The default scrypt cost of the public network: N = 2^12 (4 MiB of memory with r = 8).
    public static let defaultScryptCostLog2 = 12
    /// The allowed difficulty range.
    public static let difficultyRange = 0...32
    /// The allowed scrypt cost range (log2 N).
    public static let scryptCostLog2Range = 1...20
    /// The longest label.
    public static let maximumLabelLength = 32

    /// The public network: weekly epochs, default cost and difficulty.
    public static let publicNetwork = try! NetworkParameters(
        label: "public",
        epochLengthSeconds: EpochSchedule.weekSeconds,
        difficultyBits: defaultDifficultyBits,
        scryptCostLog2: defaultScryptCostLog2
    )

    /// A demo network, labelled "demo": 10-minute epochs, N = 2^10 and 4 bits of difficulty, so a report
    /// costs milliseconds. Its reports are rejected by the public network (different digest).
    public static let demo = try! NetworkParameters(
        label: "demo",
        epochLengthSeconds: 600,
        difficultyBits: 4,
        scryptCostLog2: 10
    )

    /// A short human label shown wherever the parameters appear ("public", "demo", …).
    public let label: String
    /// The epoch schedule.
    public let schedule: EpochSchedule
    /// Required leading zero bits of the proof of work.
    public let difficultyBits: Int
    /// log2 of scrypt's N (its CPU and memory cost); r = 8 and p = 1 are fixed.
    public let scryptCostLog2: Int

    /// Parameters for a network.
    /// - Throws: ``NetworkParametersError`` for an empty or long non-ASCII label, or a value out of range (epochs
    ///   shorter than a minute only for a demo or test label).
    public init(
        label: String,
        epochLengthSeconds: Int64,
        difficultyBits: Int,
        scryptCostLog2: Int = NetworkParameters.defaultScryptCostLog2
    ) throws(NetworkParametersError) {
        let labelBytes = Array(label.utf8)
        guard !labelBytes.isEmpty, labelBytes.count <= Self.maximumLabelLength,
            labelBytes.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw .invalidLabel(label)
        }
        let schedule: EpochSchedule
        do {
            schedule = try EpochSchedule(lengthSeconds: epochLengthSeconds, demo: Self.isDemoOrTest(label: label))
        } catch {
            throw .epochLengthOutOfRange(epochLengthSeconds, demo: Self.isDemoOrTest(label: label))
        }
        guard Self.difficultyRange.contains(difficultyBits) else { throw .difficultyOutOfRange(difficultyBits) }
        guard Self.scryptCostLog2Range.contains(scryptCostLog2) else { throw .scryptCostOutOfRange(scryptCostLog2) }
        self.label = label
        self.schedule = schedule
        self.difficultyBits = difficultyBits
        self.scryptCostLog2 = scryptCostLog2
    }

    /// The fixed per-report ε of each type (protocol v1; not configurable).
    public func epsilon(of type: ReportType) -> Double { type.epsilon }

    /// Whether these are the public network's parameters.
    public var isPublic: Bool { self == Self.publicNetwork }

    /// Whether the label marks a demo or test network ("demo", "test", or starting with "demo-" or "test-"):
    /// only those may have epochs shorter than a minute.
    public var isDemoOrTest: Bool { Self.isDemoOrTest(label: self.label) }

    /// Whether `label` marks a demo or test network.
    public static func isDemoOrTest(label: String) -> Bool {
        ["demo", "test"].contains { label == $0 || label.hasPrefix($0 + "-") }
    }

    /// How many epochs the sub-population figures (a tool among A-grade peers, a region) pool: four, or on a
    /// time-lapse network with epochs shorter than 15 s as many as make up one minute (at most 12). Each user
    /// sends one secondary report per epoch of one of several types, so one epoch holds few of any one tool.
    public var subPopulationEpochs: Int {
        let length = max(self.schedule.lengthSeconds, 1)
        return Int(min(max(4, (60 + length - 1) / length), Int64(Self.maximumSubPopulationEpochs)))
    }

    /// The most epochs ``subPopulationEpochs`` pools.
    public static let maximumSubPopulationEpochs = 12

    /// SHA-256 of a canonical encoding of every parameter, including the per-type ε, the permanent ε and
    /// the protocol version. Used as the proof-of-work salt.
    public var digest: [UInt8] {
        var bytes = Array("phantom-trail/network-parameters/v1".utf8)
        bytes.append(ReportEnvelope.protocolVersion)
        bytes.append(UInt8(self.label.utf8.count))
        bytes.append(contentsOf: self.label.utf8)
        bytes.append(contentsOf: bigEndianBytes(UInt64(self.schedule.lengthSeconds)))
        bytes.append(UInt8(self.difficultyBits))
        bytes.append(UInt8(self.scryptCostLog2))
        for type in ReportType.allCases {
            bytes.append(UInt8(type.index))
            bytes.append(contentsOf: bigEndianBytes(ReportEnvelope.epsilonThousandths(type.epsilon)))
        }
        bytes.append(contentsOf: bigEndianBytes(ReportEnvelope.epsilonThousandths(TwoLayerRandomizer.permanentEpsilon)))
        return Array(SHA256.hash(data: bytes))
    }
}

/// Why network parameters were rejected.
public enum NetworkParametersError: Error, Equatable, CustomStringConvertible {
    /// The label must be 1–32 printable ASCII characters without spaces.
    case invalidLabel(String)
    /// The epoch length is outside one minute (a demo or test network: 5 s) to 52 weeks.
    case epochLengthOutOfRange(Int64, demo: Bool)
    /// The difficulty is outside 0...32 bits.
    case difficultyOutOfRange(Int)
    /// The scrypt cost is outside 1...20 (log2 N).
    case scryptCostOutOfRange(Int)

    public var description: String {
        switch self {
        case .invalidLabel(let label):
            "network label \"\(label)\" must be 1–\(NetworkParameters.maximumLabelLength) printable ASCII characters"
        case .epochLengthOutOfRange(let seconds, let demo):
            "epoch length \(seconds) s is out of range (allowed"
                + (demo ? " on a demo or test network" : "") + ": "
                + "\(demo ? EpochSchedule.minimumDemoLengthSeconds : EpochSchedule.minimumLengthSeconds)..."
                + "\(EpochSchedule.maximumLengthSeconds) s)"
        case .difficultyOutOfRange(let bits):
            "proof-of-work difficulty \(bits) is out of range (allowed: \(NetworkParameters.difficultyRange))"
        case .scryptCostOutOfRange(let cost):
            "scrypt cost 2^\(cost) is out of range (allowed: 2^1...2^20)"
        }
    }
}

func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
