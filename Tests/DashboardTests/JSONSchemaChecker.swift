import Foundation

/// A parsed JSON value that keeps booleans, numbers, strings, arrays and objects apart.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`.
    static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The JSON Schema type names this value satisfies.
    var typeNames: Set<String> {
        switch self {
        case .null: ["null"]
        case .bool: ["boolean"]
        case .number(let value): value.rounded() == value ? ["number", "integer"] : ["number"]
        case .string: ["string"]
        case .array: ["array"]
        case .object: ["object"]
        }
    }
}

/// The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that docs/openapi.json uses: `$ref` into
/// `#/components/schemas`, `type` (a name or a list), `properties`, `required`, `additionalProperties`
/// (boolean or schema), `items`, `enum`, `const`, `oneOf`, `minimum`, `maximum`, `minItems`.
/// Anything else in a schema is an error, so the document cannot silently use a keyword this ignores.
struct JSONSchemaChecker {
    let document: JSONValue

    static let knownKeywords: Set<String> = [
        "$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "oneOf",
        "minimum", "maximum", "minItems", "description", "format", "examples", "title",
    ]

    /// Every problem of `value` against `schema`, each with its JSON path; empty when it conforms.
    func problems(_ value: JSONValue, against schema: JSONValue, path: String = "$") -> [String] {
        guard case .object(let keywords) = schema else {
            return schema == .bool(true) ? [] : ["\(path): schema is not an object"]
        }
        let unknown = Set(keywords.keys).subtracting(Self.knownKeywords)
        guard unknown.isEmpty else { return ["\(path): the checker does not know \(unknown.sorted())"] }
        if let reference = keywords["$ref"]?.string {
            guard let target = self.resolve(reference) else { return ["\(path): unresolved \(reference)"] }
            return self.problems(value, against: target, path: path)
        }
        var problems: [String] = []
        if let type = keywords["type"] {
            let allowed = Set(type.array?.compactMap(\.string) ?? type.string.map { [$0] } ?? [])
            if allowed.isDisjoint(with: value.typeNames) {
                return [
                    "\(path): expected \(allowed.sorted().joined(separator: " or ")), found \(value.typeNames.sorted())"
                ]
            }
        }
        if let options = keywords["enum"]?.array, !options.contains(value) {
            problems.append("\(path): \(value) is not one of the allowed values")
        }
        if let constant = keywords["const"], constant != value {
            problems.append("\(path): expected \(constant), found \(value)")
        }
        if let number = value.number {
            if let minimum = keywords["minimum"]?.number, number < minimum {
                problems.append("\(path): \(number) is below \(minimum)")
            }
            if let maximum = keywords["maximum"]?.number, number > maximum {
                problems.append("\(path): \(number) is above \(maximum)")
            }
        }
        if let oneOf = keywords["oneOf"]?.array {
            let matching = oneOf.filter { self.problems(value, against: $0, path: path).isEmpty }.count
            if matching != 1 {
                problems.append("\(path): matches \(matching) of the oneOf schemas, expected exactly 1")
            }
        }
        if case .object(let members) = value {
            let properties = keywords["properties"]?.object ?? [:]
            for name in keywords["required"]?.array?.compactMap(\.string) ?? [] where members[name] == nil {
                problems.append("\(path): missing required \(name)")
            }
            for (name, member) in members {
                if let schema = properties[name] {
                    problems += self.problems(member, against: schema, path: "\(path).\(name)")
                } else if let additional = keywords["additionalProperties"] {
                    if additional == .bool(false) {
                        problems.append("\(path): unexpected property \(name)")
                    } else if additional != .bool(true) {
                        problems += self.problems(member, against: additional, path: "\(path).\(name)")
                    }
                }
            }
        }
        if case .array(let elements) = value {
            if let minimum = keywords["minItems"]?.number, Double(elements.count) < minimum {
                problems.append("\(path): \(elements.count) items, at least \(Int(minimum)) expected")
            }
            if let items = keywords["items"] {
                for (index, element) in elements.enumerated() {
                    problems += self.problems(element, against: items, path: "\(path)[\(index)]")
                }
            }
        }
        return problems
    }

    /// The schema a local `$ref` points at.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = self.document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = node?[String(part)]
        }
        return node
    }
}
