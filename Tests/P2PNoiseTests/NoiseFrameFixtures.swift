import NIOCore

@testable import P2PNoise

/// Frames and their wire encoding, shared by the Noise framing tests.
enum NoiseFrameFixtures {
    /// Frames of different sizes, including an empty one and a maximum-size one.
    static let frames: [[UInt8]] = [
        Array(0..<200).map { UInt8(truncatingIfNeeded: $0) },
        [],
        [UInt8](repeating: 0xAB, count: 65535),
        [0x01, 0x02, 0x03],
    ]

    /// `frames` with their 2-byte big-endian length prefixes, one after another.
    static func encoded(_ frames: [[UInt8]]) throws -> ByteBuffer {
        var out = ByteBuffer()
        let encoder = NoiseFrameEncoder()
        for frame in frames {
            try encoder.encode(data: ByteBuffer(bytes: frame), out: &out)
        }
        return out
    }
}
