import Testing

@Suite("Dashboard placeholder") struct DashboardPlaceholderTests {}
