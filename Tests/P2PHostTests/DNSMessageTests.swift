import P2PCore
import Testing

@testable import P2PHost

/// Hex text to bytes (test data only).
func hexBytes(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// The decoding failure behind a codec error, if any.
func decodingFailure(_ bytes: [UInt8]) -> DNSDecodingFailure? {
    do {
        _ = try DNSMessage(bytes: bytes)
        return nil
    } catch {
        return error.underlying as? DNSDecodingFailure
    }
}

@Suite("DNS message codec")
struct DNSMessageTests {
    /// A response as python-zeroconf 0.150.5 (used by py-libp2p 0.8.1's mDNS) writes it: PTR answer, SRV, TXT and A
    /// additionals, with name compression. Produced with zeroconf's `DNSOutgoing` from the records py-libp2p
    /// advertised in shared/interop/checks/mdns_sniff.out.
    static let zeroconfResponse = hexBytes(
        "000084000000000100000003045f703270045f756470056c6f63616c00000c00010000119400423f64756c35373569697230623666"
            + "796d713161377276776a3669626b377a7735777636333577653378697065376b646e387477646f72387533796b666f6b6461c0"
            + "0cc02700218001000000780048000000000fa13f64756c35373569697230623666796d713161377276776a3669626b377a7735"
            + "777636333577653378697065376b646e387477646f72387533796b666f6b6461c016c027001080010000119400b559646e7361"
            + "6464723d2f6970342f3132372e302e302e312f7463702f34303131322f7032702f313244334b6f6f57456459464a5445523753"
            + "6378756b7673444a6858545156786743514a785335416f4d444e744136416b3653735a646e7361646472323d2f6970342f3132"
            + "372e302e302e312f7463702f34303131312f7032702f313244334b6f6f57456459464a54455237536378756b7673444a685854"
            + "5156786743514a785335416f4d444e744136416b365373c07b000180010000007800047f000001"
    )
    /// zeroconf's PTR query for `_p2p._udp.local` with the QU bit.
    static let zeroconfQuery = hexBytes("000000000001000000000000045f703270045f756470056c6f63616c00000c8001")

    static let peerName = "dul575iir0b6fymq1a7rvwj6ibk7zw5wv635we3xipe7kdn8twdor8u3ykfokda"

    @Test("A zeroconf response decodes with its compressed names resolved")
    func decodesZeroconfResponse() throws {
        let message = try DNSMessage(bytes: Self.zeroconfResponse)
        #expect(message.isResponse)
        #expect(message.flags == 0x8400)
        #expect(message.questions.isEmpty)
        let service = try DNSName(parsing: "_p2p._udp.local")
        let instance = try service.prepending(Self.peerName)
        let host = try DNSName(parsing: "\(Self.peerName).local")
        #expect(message.answers == [DNSResourceRecord(name: service, ttl: 4500, data: .ptr(instance))])
        #expect(message.additionals.count == 3)
        #expect(
            message.additionals[0]
                == DNSResourceRecord(
                    name: instance,
                    ttl: 120,
                    data: .srv(priority: 0, weight: 0, port: 4001, target: host),
                    cacheFlush: true
                )
        )
        guard case .txt(let strings) = message.additionals[1].data else {
            Issue.record("the second additional record is \(message.additionals[1].data.type), not TXT")
            return
        }
        #expect(message.additionals[1].name == instance)
        #expect(
            strings.map { String(decoding: $0, as: UTF8.self) } == [
                "dnsaddr=/ip4/127.0.0.1/tcp/40112/p2p/12D3KooWEdYFJTER7ScxukvsDJhXTQVxgCQJxS5AoMDNtA6Ak6Ss",
                "dnsaddr2=/ip4/127.0.0.1/tcp/40111/p2p/12D3KooWEdYFJTER7ScxukvsDJhXTQVxgCQJxS5AoMDNtA6Ak6Ss",
            ]
        )
        #expect(
            message.additionals[2]
                == DNSResourceRecord(name: host, ttl: 120, data: .a(IPv4Address(127, 0, 0, 1)), cacheFlush: true)
        )
    }

    @Test("A zeroconf query decodes as a PTR question with the unicast-response bit")
    func decodesZeroconfQuery() throws {
        let message = try DNSMessage(bytes: Self.zeroconfQuery)
        #expect(!message.isResponse)
        #expect(
            message.questions == [
                DNSQuestion(name: try DNSName(parsing: "_p2p._udp.local"), type: .ptr, unicastResponse: true)
            ]
        )
        #expect(message.answers.isEmpty && message.additionals.isEmpty)
    }

    @Test("Our encoding of the zeroconf query is byte for byte the same (no compression is needed)")
    func encodesQueryLikeZeroconf() throws {
        let query = DNSMessage(
            questions: [DNSQuestion(name: try DNSName(parsing: "_p2p._udp.local"), type: .ptr, unicastResponse: true)]
        )
        #expect(try query.encoded() == Self.zeroconfQuery)
    }

    @Test("Every record type survives an encode-decode round trip, and the decoded response equals the zeroconf one")
    func roundTrip() throws {
        let decoded = try DNSMessage(bytes: Self.zeroconfResponse)
        let reencoded = try decoded.encoded()
        #expect(reencoded.count > Self.zeroconfResponse.count)  // we do not compress
        #expect(try DNSMessage(bytes: reencoded) == decoded)

        let name = try DNSName(parsing: "host.local")
        let message = DNSMessage(
            id: 0x1234,
            flags: 0x8400,
            questions: [DNSQuestion(name: name, type: .any, recordClass: 255)],
            answers: [
                DNSResourceRecord(name: name, ttl: 1, data: .aaaa(try IPv6Address(parsing: "fd00::2"))),
                DNSResourceRecord(name: name, ttl: 0, data: .txt([[], [0x61], Array(repeating: 0x62, count: 255)])),
            ],
            authorities: [DNSResourceRecord(name: name, ttl: 7, data: .other(type: .nsec, bytes: [1, 2, 3]))],
            additionals: [DNSResourceRecord(name: name, ttl: 9, data: .ptr(name), cacheFlush: true)]
        )
        #expect(try DNSMessage(bytes: try message.encoded()) == message)
    }

    @Test("Names compare without regard to ASCII case")
    func caseInsensitiveNames() throws {
        let lower = try DNSName(parsing: "_p2p._udp.local")
        let upper = try DNSName(parsing: "_P2P._UDP.LOCAL.")
        #expect(lower == upper)
        #expect(lower.hashValue == upper.hashValue)
        #expect(try lower.prepending("abc").isDirectChild(of: upper))
        #expect(!lower.isDirectChild(of: upper))
        #expect(lower != (try DNSName(parsing: "_p2p._tcp.local")))
    }

    @Test("Names with an empty, over-long label or over 255 bytes are refused")
    func nameLimits() throws {
        #expect(throws: P2PHostError.self) { try DNSName(parsing: "a..local") }
        #expect(throws: P2PHostError.self) { try DNSName(parsing: String(repeating: "a", count: 64) + ".local") }
        _ = try DNSName(parsing: String(repeating: "a", count: 63) + ".local")
        let label = String(repeating: "a", count: 63)
        #expect(throws: P2PHostError.self) {
            try DNSName(parsing: [label, label, label, label].joined(separator: "."))
        }
    }

    @Test("Every truncation of the zeroconf response is a clear error, never a crash")
    func truncations() {
        for length in 0..<Self.zeroconfResponse.count {
            let failure = decodingFailure(Array(Self.zeroconfResponse.prefix(length)))
            switch failure {
            case .truncated, .badRecordLength:
                continue
            default:
                Issue.record("prefix of \(length) bytes gave \(String(describing: failure))")
            }
        }
    }

    @Test("Every single-byte change of the zeroconf response decodes or fails with an error")
    func mutations() {
        var failures = 0
        for index in Self.zeroconfResponse.indices {
            for value: UInt8 in [0x00, 0x3F, 0x40, 0xC0, 0xFF] {
                var bytes = Self.zeroconfResponse
                bytes[index] = value
                if decodingFailure(bytes) != nil {
                    failures += 1
                }
            }
        }
        #expect(failures > 0)
    }

    @Test("A compression pointer to itself or forward is refused, so pointer loops are impossible")
    func pointerLoops() {
        // Header with one question whose name is a pointer to offset 12 (itself).
        let selfPointer = hexBytes("000000000001000000000000c00c000c0001")
        #expect(decodingFailure(selfPointer) == .badCompressionPointer(target: 12, at: 12))
        let forward = hexBytes("000000000001000000000000c00e000c0001")
        #expect(decodingFailure(forward) == .badCompressionPointer(target: 14, at: 12))
        // "a" then a pointer back to "a": each jump is backwards, but the chain repeats; the limits stop it.
        let cycle = hexBytes("00000000000100000000000001" + "61" + "c00c" + "000c0001")
        switch decodingFailure(cycle) {
        case .tooManyCompressionPointers, .nameTooLong: break
        case let other: Issue.record("a repeating pointer chain gave \(String(describing: other))")
        }
    }

    @Test("Reserved label types, bad record lengths, trailing bytes and huge counts are refused")
    func malformedInputs() {
        #expect(decodingFailure(hexBytes("0000000000010000000000004161000c0001")) == .reservedLabelType(0x41))
        // An A record with 3 data bytes.
        #expect(
            decodingFailure(hexBytes("00008400000000010000000001610000010001000000780003010203"))
                == .badRecordLength(type: .a, length: 3)
        )
        // A TXT string whose length runs past the record data.
        #expect(
            decodingFailure(hexBytes("0000840000000001000000000161000010000100000078000205ff"))
                == .badRecordLength(type: .txt, length: 2)
        )
        // A PTR record whose name ends before its data length.
        #expect(
            decodingFailure(hexBytes("000084000000000100000000016100000c0001000000780002016100"))
                == .badRecordLength(type: .ptr, length: 2)
        )
        #expect(decodingFailure(Self.zeroconfQuery + [0]) == .trailingBytes(1))
        #expect(decodingFailure(hexBytes("0000000001000100010001")) == .truncated(field: "header"))
        #expect(decodingFailure(hexBytes("0000000001000100010001ff")) == .tooManyEntries(256 * 3 + 511))
    }

    @Test("Messages over 9000 bytes are refused before parsing, and an encoded one over it is an error")
    func sizeLimits() throws {
        let big = [UInt8](repeating: 0, count: DNSMessage.maxSize + 1)
        #expect(decodingFailure(big) == .messageTooLarge(size: DNSMessage.maxSize + 1))
        do {
            _ = try DNSMessage(bytes: big)
        } catch {
            #expect(error.code == .messageTooLarge)
        }
        let name = try DNSName(parsing: "a.local")
        let strings = Array(repeating: Array(repeating: UInt8(0x61), count: 255), count: 40)
        let message = DNSMessage(answers: [DNSResourceRecord(name: name, ttl: 1, data: .txt(strings))])
        #expect(throws: P2PHostError(.messageTooLarge, "")) { try message.encoded() }
        let longString = DNSMessage(
            answers: [DNSResourceRecord(name: name, ttl: 1, data: .txt([Array(repeating: 0x61, count: 256)]))]
        )
        #expect(throws: P2PHostError(.protocolViolation, "")) { try longString.encoded() }
    }

    @Test("A malformed message's error names the problem")
    func errorMessages() {
        do {
            _ = try DNSMessage(bytes: hexBytes("000000000001000000000000c00c000c0001"))
            Issue.record("a self-pointing name decoded")
        } catch {
            #expect(error.code == .protocolViolation)
            #expect(error.message.contains("compression pointer at offset 12"))
        }
    }
}
