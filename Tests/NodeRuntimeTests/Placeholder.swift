import Testing

@Suite("NodeRuntime placeholder") struct NodeRuntimePlaceholderTests {}
