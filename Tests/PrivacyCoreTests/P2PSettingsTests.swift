import Foundation
import PrivacyCore
import Testing

@Suite("P2PSettings")
struct P2PSettingsTests {
    @Test("Defaults: all sharing off, 10 connections, reconnect on")
    func defaults() {
        let settings = P2PSettings()
        #expect(!settings.joinPrivacyNetwork)
        #expect(!settings.shareAnonymousData)
        #expect(!settings.shareRegionalData)
        #expect(settings.maxConnections == 10)
        #expect(settings.autoReconnect)
        #expect(!settings.sendsReports)
    }

    @Test("maxConnections must be within 1...20", arguments: [-1, 0, 1, 10, 20, 21, 1000])
    func range(value: Int) throws {
        if (1...20).contains(value) {
            #expect(try P2PSettings(maxConnections: value).maxConnections == value)
        } else {
            #expect(throws: P2PSettingsError.maxConnectionsOutOfRange(value)) { try P2PSettings(maxConnections: value) }
            var settings = P2PSettings()
            #expect(throws: P2PSettingsError.maxConnectionsOutOfRange(value)) { try settings.setMaxConnections(value) }
            #expect(settings.maxConnections == 10)
        }
    }

    @Test("Codable round trip with the plan's field names")
    func codable() throws {
        let settings = try P2PSettings(
            joinPrivacyNetwork: true,
            shareAnonymousData: true,
            maxConnections: 7,
            autoReconnect: false
        )
        let data = try JSONEncoder().encode(settings)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "joinPrivacyNetwork", "shareAnonymousData", "shareRegionalData", "maxConnections", "autoReconnect",
            ]
        )
        #expect(try JSONDecoder().decode(P2PSettings.self, from: data) == settings)
    }

    @Test("Decoding fills absent fields with defaults and validates maxConnections")
    func decodingValidates() throws {
        let partial = try JSONDecoder().decode(P2PSettings.self, from: Data(#"{"joinPrivacyNetwork": true}"#.utf8))
        #expect(partial.joinPrivacyNetwork)
        #expect(partial.maxConnections == 10)
        #expect(partial.autoReconnect)
        #expect(throws: P2PSettingsError.maxConnectionsOutOfRange(0)) {
            try JSONDecoder().decode(P2PSettings.self, from: Data(#"{"maxConnections": 0}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(P2PSettings.self, from: Data(#"{"shareAnonymousData": "yes"}"#.utf8))
        }
    }
}
