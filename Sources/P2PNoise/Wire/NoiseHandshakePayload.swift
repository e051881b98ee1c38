// The libp2p Noise handshake payload
// (https://github.com/libp2p/specs/blob/master/noise/README.md#the-libp2p-handshake-payload):
//
//     message NoiseExtensions {
//         repeated bytes webtransport_certhashes = 1;
//         repeated string stream_muxers = 2;
//     }
//     message NoiseHandshakePayload {
//         optional bytes identity_key = 1;
//         optional bytes identity_sig = 2;
//         optional NoiseExtensions extensions = 4;
//     }

import NIOCore
import P2PCore

/// The `NoiseExtensions` a peer announces in its handshake payload (libp2p noise spec, "Noise Extensions").
public struct NoiseExtensions: Hashable, Sendable {
    /// The most entries accepted in each repeated field when decoding.
    public static let maximumEntryCount = 64
    /// The longest entry accepted in each repeated field when decoding.
    public static let maximumEntryLength = 1024

    /// `webtransport_certhashes` (field 1): multihashes of WebTransport certificates.
    public var webTransportCertHashes: [[UInt8]]
    /// `stream_muxers` (field 2): the muxer protocol IDs for inlined muxer negotiation, in preference order.
    public var streamMuxers: [String]

    /// Extensions with the given entries (none by default).
    public init(webTransportCertHashes: [[UInt8]] = [], streamMuxers: [String] = []) {
        self.webTransportCertHashes = webTransportCertHashes
        self.streamMuxers = streamMuxers
    }
}

/// The `NoiseHandshakePayload` protobuf carried, encrypted, in XX messages 2 and 3.
struct NoiseHandshakePayload: Hashable, Sendable {
    /// The prefix of the signed data: the UTF-8 bytes `noise-libp2p-static-key:`.
    static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    /// `identity_key` (field 1): the sender's libp2p `PublicKey` protobuf.
    var identityKey: [UInt8]
    /// `identity_sig` (field 2): the identity key's signature over `signaturePrefix ‖ static key`.
    var identitySignature: [UInt8]
    /// `extensions` (field 4), if present.
    var extensions: NoiseExtensions?

    init(identityKey: [UInt8], identitySignature: [UInt8], extensions: NoiseExtensions? = nil) {
        self.identityKey = identityKey
        self.identitySignature = identitySignature
        self.extensions = extensions
    }

    /// The bytes an identity key signs to vouch for a Noise static public key.
    static func signedData(staticPublicKey: some Collection<UInt8>) -> [UInt8] {
        var data = Self.signaturePrefix
        data.append(contentsOf: staticPublicKey)
        return data
    }

    /// The protobuf encoding, fields in number order.
    var encoded: [UInt8] {
        var writer = ProtobufWriter()
        writer.writeBytes(field: 1, self.identityKey)
        writer.writeBytes(field: 2, self.identitySignature)
        if let extensions = self.extensions {
            writer.writeMessage(field: 4) { inner in
                for hash in extensions.webTransportCertHashes {
                    inner.writeBytes(field: 1, hash)
                }
                for muxer in extensions.streamMuxers {
                    inner.writeString(field: 2, muxer)
                }
            }
        }
        return writer.bytes
    }

    /// Decodes a payload, skipping unknown fields (such as the legacy field 3).
    ///
    /// - Throws: ``NoiseError/Code/invalidPayload`` for malformed protobuf, missing key or
    ///   signature, or extensions over the size limits.
    init(decoding bytes: ByteBuffer) throws(NoiseError) {
        var identityKey: [UInt8]?
        var identitySignature: [UInt8]?
        var extensions: NoiseExtensions?
        do {
            var reader = try ProtobufReader(buffer: bytes, maxMessageSize: NoiseFrameDecoder.maximumMessageLength)
            while let field = try reader.next() {
                switch field.number {
                case 1: identityKey = Array(try field.bytesValue())
                case 2: identitySignature = Array(try field.bytesValue())
                case 4:
                    var merged = extensions ?? NoiseExtensions()
                    try Self.decodeExtensions(try field.bytesValue(), into: &merged)
                    extensions = merged
                default: continue
                }
            }
        } catch let error as NoiseError {
            throw error
        } catch {
            throw .invalidPayload(
                "the handshake payload is not a valid NoiseHandshakePayload protobuf",
                underlying: error
            )
        }
        guard let identityKey, !identityKey.isEmpty else {
            throw .invalidPayload("the handshake payload has no identity_key")
        }
        guard let identitySignature, !identitySignature.isEmpty else {
            throw .invalidPayload("the handshake payload has no identity_sig")
        }
        self.init(identityKey: identityKey, identitySignature: identitySignature, extensions: extensions)
    }

    private static func decodeExtensions(_ bytes: ArraySlice<UInt8>, into extensions: inout NoiseExtensions) throws {
        var reader = try ProtobufReader(bytes, maxMessageSize: NoiseFrameDecoder.maximumMessageLength)
        while let field = try reader.next() {
            switch field.number {
            case 1:
                let hash = try field.bytesValue()
                try Self.checkEntry(
                    count: extensions.webTransportCertHashes.count,
                    length: hash.count,
                    name: "webtransport_certhashes"
                )
                extensions.webTransportCertHashes.append(Array(hash))
            case 2:
                let muxer = try field.stringValue()
                try Self.checkEntry(
                    count: extensions.streamMuxers.count,
                    length: muxer.utf8.count,
                    name: "stream_muxers"
                )
                extensions.streamMuxers.append(muxer)
            default: continue
            }
        }
    }

    private static func checkEntry(count: Int, length: Int, name: String) throws(NoiseError) {
        guard count < NoiseExtensions.maximumEntryCount else {
            throw .invalidPayload("extensions.\(name) has more than \(NoiseExtensions.maximumEntryCount) entries")
        }
        guard length <= NoiseExtensions.maximumEntryLength else {
            throw .invalidPayload(
                "an extensions.\(name) entry of \(length) bytes exceeds \(NoiseExtensions.maximumEntryLength) bytes"
            )
        }
    }
}
