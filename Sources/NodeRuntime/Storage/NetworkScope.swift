public import PrivacyCore

/// Which network stored history and snapshots belong to. Epoch numbers of networks with different epoch
/// lengths (the public network, a demo network) are unrelated, so trends never mix them.
public struct NetworkScope: Hashable, Sendable, CustomStringConvertible {
    /// The identifier stored in the database: the network's label and the first 8 bytes of its parameter
    /// digest in hex, e.g. `public-1a2b3c4d5e6f7081`.
    public let identifier: String

    /// The scope of a network's parameters.
    public init(_ parameters: NetworkParameters) {
        let hex = parameters.digest.prefix(8).map { byte in
            String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        self.identifier = parameters.label + "-" + hex.joined()
    }

    /// The public network's scope.
    public static let publicNetwork = NetworkScope(.publicNetwork)

    /// The identifier.
    public var description: String { self.identifier }
}
