import Testing

@Suite("PrivacyNetwork placeholder") struct PrivacyNetworkPlaceholderTests {}
