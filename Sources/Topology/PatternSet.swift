import Foundation

/// Regular expressions compiled once for whole-string matching; equal when their source texts are.
///
/// Uses `NSRegularExpression` (immutable and thread-safe) because Swift's `Regex` is not `Sendable`.
struct PatternSet: Sendable, Equatable {
    /// The patterns as written.
    let sources: [String]
    private let compiled: [NSRegularExpression]

    /// Compiles `sources`, leaving out those that do not compile.
    init(_ sources: [String]) {
        self.sources = sources
        compiled = sources.compactMap { try? Self.compile($0) }
    }

    /// Whether any pattern matches the whole of `text`.
    func matchesWhole(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        return compiled.contains { $0.firstMatch(in: text, range: range) != nil }
    }

    static func == (lhs: PatternSet, rhs: PatternSet) -> Bool {
        lhs.sources == rhs.sources
    }

    /// Compiles `pattern` anchored at both ends.
    ///
    /// The pattern is first compiled on its own so that texts such as `a)|(b`, which only become
    /// valid once wrapped in a group, are rejected.
    static func compile(_ pattern: String) throws -> NSRegularExpression {
        _ = try NSRegularExpression(pattern: pattern)
        return try NSRegularExpression(pattern: "\\A(?:\(pattern))\\z")
    }

    /// Why `pattern` does not compile, or nil if it does.
    ///
    /// ICU's own errors say no more than "the value is invalid", so the reason is taken from
    /// Swift's regex parser where that rejects the pattern too.
    static func compileError(_ pattern: String) -> String? {
        do {
            _ = try compile(pattern)
            return nil
        } catch {
            do {
                _ = try Regex(pattern)
                return "not a valid regular expression"
            } catch {
                return "not a valid regular expression: \(error)"
            }
        }
    }
}

/// An include list and an exclude list of whole-name patterns: a name is selected when it matches an
/// include pattern and no exclude pattern.
struct NameFilter: Sendable, Equatable {
    var include: PatternSet
    var exclude: PatternSet

    init(include: [String], exclude: [String]) {
        self.include = PatternSet(include)
        self.exclude = PatternSet(exclude)
    }

    func selects(_ name: String) -> Bool {
        include.matchesWhole(name) && !exclude.matchesWhole(name)
    }
}
