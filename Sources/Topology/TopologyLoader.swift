import Foundation
import Yams

/// Reads and validates topology files, reporting every problem found rather than only the first.
package enum TopologyLoader {
    /// Reads and validates the topology file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file to read; reported in issues as given.
    ///   - environment: Values for `${NAME}` references in scalar values.
    /// - Throws: ``TopologyError`` listing every problem, in file order.
    package static func load(
        file path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TopologyError) -> Topology {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? POSIXError
            let reason = posix.map { String(cString: strerror($0.code.rawValue)) } ?? error.localizedDescription
            throw TopologyError(issues: [TopologyIssue(file: path, key: "", message: "cannot read file: \(reason)")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(yaml: yaml, file: path, environment: environment, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses and validates topology YAML text.
    ///
    /// - Parameters:
    ///   - yaml: The topology document.
    ///   - file: Name reported in issues.
    ///   - environment: Values for `${NAME}` references in scalar values.
    ///   - baseDirectory: Where a relative `${file:PATH}` is looked for; default the working directory.
    /// - Throws: ``TopologyError`` listing every problem, in file order.
    package static func parse(
        yaml: String,
        file: String = "<string>",
        environment: [String: String] = [:],
        baseDirectory: String = "."
    ) throws(TopologyError) -> Topology {
        var reader = TopologyReader(file: file, environment: environment, baseDirectory: baseDirectory)
        if let topology = reader.topology(from: yaml), reader.issues.isEmpty {
            return topology
        }
        throw TopologyError(issues: reader.issuesInFileOrder)
    }
}

/// The keys a mapping accepts. Adding a section to the file format is one line here (plus its reader).
private struct Schema {
    var required: [String]
    var optional: [String] = []

    static let topology = Schema(required: ["pair", "source", "target", "topics"], optional: ["groups", "lag", "metrics", "instances", "reconcile", "drill", "heartbeats"])
    static let endpoint = Schema(required: ["region", "bootstrap_servers"], optional: ["properties"])
    static let topics = Schema(
        required: ["include"],
        optional: ["exclude", "rename", "replication_factor", "discovery_interval"]
    )

    static let groups = Schema(required: [], optional: ["include", "exclude", "sync_interval"])
    static let lag = Schema(required: [], optional: ["warn_seconds", "critical_seconds", "for"])
    static let metrics = Schema(required: [], optional: ["listen"])
    static let instances = Schema(required: [], optional: ["mode", "session_timeout", "commit_interval"])
    static let reconcile = Schema(
        required: ["postgres_dsn", "committed_query", "topics"],
        optional: ["event_id", "compare", "state_schema", "amount", "currency", "continuous"])
    static let continuous = Schema(required: [], optional: ["interval", "lookback", "max_age"])
    static let drill = Schema(required: [], optional: ["rto", "max_lag_seconds"])
    static let heartbeats = Schema(required: [], optional: ["interval"])

    var keys: [String] { required + optional }
}

/// A node of the document with the dotted path of its key.
private struct Entry {
    /// Dotted key path, e.g. `topics.include[1]`.
    let path: String
    let node: Node
    /// Where the key is; missing keys of a mapping are reported here.
    let keyMark: Mark?

    func path(of name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }
}

/// Walks the composed document, building the topology and collecting issues.
///
/// Readers return nil only when there is no usable value; whenever anything is wrong an issue is
/// recorded, and the topology is only accepted if there are none.
private struct TopologyReader {
    let file: String
    let environment: [String: String]
    /// Where a relative `${file:PATH}` is looked for: the topology file's directory.
    let baseDirectory: String
    private(set) var issues: [TopologyIssue] = []

    init(file: String, environment: [String: String], baseDirectory: String) {
        self.file = file
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    var issuesInFileOrder: [TopologyIssue] {
        issues.enumerated()
            .sorted { ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset) < ($1.element.line ?? 0, $1.element.column ?? 0, $1.offset) }
            .map(\.element)
    }

    mutating func topology(from yaml: String) -> Topology? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                report("", at: nil, "the file is empty; expected a mapping with pair, source, target and topics")
                return nil
            }
            root = node
        } catch {
            reportSyntaxError(error)
            return nil
        }
        guard let fields = mapping(Entry(path: "", node: root, keyMark: root.mark), schema: .topology) else {
            return nil
        }
        let pair = fields["pair"].flatMap {
            value($0, "pair must match [a-zA-Z0-9._-]+ (it is used in topic names)") {
                $0.wholeMatch(of: /[a-zA-Z0-9._-]+/) == nil ? nil : $0
            }
        }
        let source = fields["source"].flatMap { endpoint($0, otherRegion: nil) }
        let target = fields["target"].flatMap { endpoint($0, otherRegion: source?.region) }
        let sameCluster = source != nil && source?.normalizedBootstrapServers == target?.normalizedBootstrapServers
        let topics = fields["topics"].flatMap { topicSelection($0, sameCluster: sameCluster) }
        let groups = fields["groups"].map { groupSelection($0) } ?? GroupSelection()
        let lag = fields["lag"].map { lagSettings($0) } ?? LagSettings()
        let metrics = fields["metrics"].map { metricsSettings($0) } ?? MetricsSettings()
        let instances = fields["instances"].map { instanceSettings($0) } ?? InstanceSettings()
        let reconcile = fields["reconcile"].flatMap { reconcileSettings($0, replicated: topics) }
        let drill = fields["drill"].map { drillSettings($0) } ?? DrillSettings()
        let heartbeats = fields["heartbeats"].map { heartbeatSettings($0) } ?? HeartbeatSettings()
        guard let pair, let source, let target, let topics, let groups else { return nil }
        return Topology(
            pair: pair, source: source, target: target, topics: topics, groups: groups, lag: lag, metrics: metrics,
            instances: instances, reconcile: reconcile, drill: drill, heartbeats: heartbeats)
    }

    // MARK: Sections

    private mutating func endpoint(_ entry: Entry, otherRegion: String?) -> ClusterEndpoint? {
        guard let fields = mapping(entry, schema: .endpoint) else { return nil }
        let region = fields["region"].flatMap { regionEntry in
            let region = value(regionEntry, "region must match [a-z0-9-]+") {
                $0.wholeMatch(of: /[a-z0-9-]+/) == nil ? nil : $0
            }
            if let region, region == otherRegion {
                report(regionEntry, "region must differ from source.region")
            }
            return region
        }
        let servers = fields["bootstrap_servers"].flatMap {
            value($0, "bootstrap_servers must list at least one host:port") {
                $0.contains { $0 != "," && !$0.isWhitespace } ? $0 : nil
            }
        }
        let properties = fields["properties"].map { self.properties($0) } ?? [:]
        guard let region, let servers else { return nil }
        return ClusterEndpoint(region: region, bootstrapServers: servers, properties: ClusterProperties(properties))
    }

    private mutating func topicSelection(_ entry: Entry, sameCluster: Bool) -> TopicSelection? {
        guard let fields = mapping(entry, schema: .topics) else { return nil }
        let include = fields["include"].flatMap { patterns($0) }
        if let includeEntry = fields["include"], includeEntry.node.sequence?.isEmpty == true {
            report(includeEntry, "include must list at least one regular expression")
        }
        let exclude = fields["exclude"].flatMap { patterns($0) } ?? []
        let rename = fields["rename"].flatMap { renameEntry in
            let rename = value(
                renameEntry,
                expected: "prefix or identity",
                "rename must be prefix or identity",
                RenamePolicy.init(rawValue:)
            )
            if rename == .identity, sameCluster {
                report(renameEntry, "rename identity between source and target on the same cluster is a replication loop")
            }
            return rename
        }
        let replicationFactor = fields["replication_factor"].flatMap {
            value($0, expected: "an integer", "replication_factor must be an integer, -1 (broker default) or at least 1") {
                Int($0).flatMap { $0 == -1 || $0 >= 1 ? $0 : nil }
            }
        }
        let discoveryInterval = fields["discovery_interval"].flatMap {
            value($0, expected: "a duration", "discovery_interval must be a duration greater than zero, such as 250ms, 5s, 2m or 1h") {
                parseDuration($0).flatMap { $0 > .zero ? $0 : nil }
            }
        }
        guard let include else { return nil }
        return TopicSelection(
            include: include,
            exclude: exclude,
            rename: rename ?? .prefix,
            replicationFactor: replicationFactor ?? -1,
            discoveryInterval: discoveryInterval ?? .seconds(5)
        )
    }

    private mutating func groupSelection(_ entry: Entry) -> GroupSelection? {
        guard let fields = mapping(entry, schema: .groups) else { return nil }
        let defaults = GroupSelection()
        let include = fields["include"].map { patterns($0) } ?? defaults.include
        let exclude = fields["exclude"].map { patterns($0) } ?? defaults.exclude
        let syncInterval = fields["sync_interval"].flatMap {
            value($0, expected: "a duration", "sync_interval must be a duration greater than zero, such as 500ms, 10s or 1m") {
                parseDuration($0).flatMap { $0 > .zero ? $0 : nil }
            }
        }
        guard let include, let exclude else { return nil }
        return GroupSelection(include: include, exclude: exclude, syncInterval: syncInterval ?? defaults.syncInterval)
    }

    private mutating func lagSettings(_ entry: Entry) -> LagSettings {
        let defaults = LagSettings()
        guard let fields = mapping(entry, schema: .lag) else { return defaults }
        func seconds(_ name: String) -> Double? {
            fields[name].flatMap {
                value($0, expected: "a number", "\(name) must be a number of seconds greater than zero") {
                    Double($0).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
                }
            }
        }
        let warn = seconds("warn_seconds")
        let critical = seconds("critical_seconds")
        if let criticalEntry = fields["critical_seconds"], let critical, critical < (warn ?? defaults.warnSeconds) {
            report(criticalEntry, "critical_seconds must be at least warn_seconds")
        } else if let warnEntry = fields["warn_seconds"], fields["critical_seconds"] == nil, let warn, warn > defaults.criticalSeconds {
            report(warnEntry, "warn_seconds must not exceed critical_seconds (default 60)")
        }
        let holdFor = fields["for"].flatMap {
            value($0, expected: "a duration", "for must be a duration, such as 0s, 30s or 2m") { parseDuration($0) }
        }
        return LagSettings(
            warnSeconds: warn ?? defaults.warnSeconds,
            criticalSeconds: critical ?? defaults.criticalSeconds,
            holdFor: holdFor ?? defaults.holdFor)
    }

    private mutating func metricsSettings(_ entry: Entry) -> MetricsSettings {
        guard let fields = mapping(entry, schema: .metrics) else { return MetricsSettings() }
        let listen = fields["listen"].flatMap {
            value($0, "listen must be host:port (a port from 1 to 65535; IPv6 as [address]:port)") {
                MetricsSettings(listen: $0)
            }
        }
        return listen ?? MetricsSettings()
    }

    private mutating func instanceSettings(_ entry: Entry) -> InstanceSettings {
        let defaults = InstanceSettings()
        guard let fields = mapping(entry, schema: .instances) else { return defaults }
        let modes = InstanceSettings.Mode.allCases.map(\.rawValue).joined(separator: " or ")
        let mode = fields["mode"].flatMap {
            value($0, "mode must be \(modes)") { InstanceSettings.Mode(rawValue: $0) }
        }
        func duration(_ name: String, minimum: Duration, shown: String, example: String) -> Duration? {
            fields[name].flatMap {
                value($0, expected: "a duration", "\(name) must be a duration of at least \(shown), such as \(example)") {
                    parseDuration($0).flatMap { $0 >= minimum ? $0 : nil }
                }
            }
        }
        let session = duration("session_timeout", minimum: .seconds(1), shown: "1s", example: "6s or 30s")
        let commit = duration("commit_interval", minimum: .milliseconds(1), shown: "1ms", example: "100ms or 1s")
        return InstanceSettings(
            mode: mode ?? defaults.mode, sessionTimeout: session ?? defaults.sessionTimeout,
            commitInterval: commit ?? defaults.commitInterval)
    }

    private mutating func reconcileSettings(_ entry: Entry, replicated: TopicSelection?) -> ReconcileSettings? {
        guard let fields = mapping(entry, schema: .reconcile) else { return nil }
        let dsn = fields["postgres_dsn"].flatMap {
            value($0, "postgres_dsn must be a libpq connection string, such as \"host=db dbname=payments user=app\"") {
                $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0
            }
        }
        let query = fields["committed_query"].flatMap {
            value($0, "committed_query must use $1 (window start) and $2 (window end) and return event_id and committed_at") {
                $0.contains("$1") && $0.contains("$2") ? $0 : nil
            }
        }
        var topics: [String]?
        if let topicsEntry = fields["topics"] {
            if let sequence = topicsEntry.node.sequence, !sequence.isEmpty {
                topics = sequence.enumerated().compactMap { index, node in
                    let item = Entry(path: "\(topicsEntry.path)[\(index)]", node: node, keyMark: node.mark)
                    guard let topic = text(item, expected: "a topic name") else { return nil }
                    if let replicated, !replicated.selects(topic) {
                        report(item, "topic \(topic) is not replicated by this topology (see topics.include and topics.exclude)")
                    }
                    return topic
                }
            } else {
                reportType(topicsEntry, expected: "a non-empty list of source topics")
            }
        }
        let eventID = fields["event_id"].flatMap {
            value($0, "event_id must be key, header:<name> or json:<field>") { EventIDLocation($0) }
        }
        var compare: [FieldComparison] = []
        if let compareEntry = fields["compare"] {
            for (field, columnEntry) in children(of: compareEntry) ?? [] {
                if let column = value(columnEntry, "compare.\(field) must name a column of committed_query (letters, digits, _)", {
                    $0.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) == nil ? nil : $0
                }) {
                    compare.append(FieldComparison(field: field, column: column))
                }
            }
        }
        let schema = fields["state_schema"].flatMap {
            value($0, "state_schema must be a Postgres schema name (lower-case letters, digits, _)") {
                $0.wholeMatch(of: /[a-z_][a-z0-9_]*/) == nil ? nil : $0
            }
        }
        func column(_ key: String) -> String? {
            fields[key].flatMap {
                value($0, "\(key) must name a column of committed_query (letters, digits, _)") {
                    $0.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) == nil ? nil : $0
                }
            }
        }
        let amount = column("amount")
        let currency = column("currency")
        if let currencyEntry = fields["currency"], fields["amount"] == nil {
            report(currencyEntry, "currency needs amount: the currency of which column?")
        }
        let continuous = fields["continuous"].flatMap { continuousSettings($0) }
        guard let dsn, let query, let topics else { return nil }
        return ReconcileSettings(
            postgresDSN: Secret(dsn), committedQuery: query, topics: topics, eventID: eventID ?? .key, compare: compare,
            stateSchema: schema ?? "regionbridge", amountColumn: amount, currencyColumn: currency, continuous: continuous)
    }

    private mutating func continuousSettings(_ entry: Entry) -> ContinuousReconcileSettings? {
        let defaults = ContinuousReconcileSettings()
        guard let fields = mapping(entry, schema: .continuous) else { return nil }
        func duration(_ key: String, _ example: String) -> Duration? {
            fields[key].flatMap {
                value($0, expected: "a duration", "\(key) must be a duration greater than zero, such as \(example)") {
                    parseDuration($0).flatMap { $0 > .zero ? $0 : nil }
                }
            }
        }
        let interval = duration("interval", "10s or 30s") ?? defaults.interval
        let lookback = duration("lookback", "15m or 1h") ?? defaults.lookback
        let maxAge = duration("max_age", "30s or 2m") ?? defaults.maxAge
        if lookback <= maxAge {
            report(fields["lookback"] ?? entry, "lookback must be longer than max_age: no payment would be old enough to count")
        }
        return ContinuousReconcileSettings(interval: interval, lookback: lookback, maxAge: maxAge)
    }

    private mutating func drillSettings(_ entry: Entry) -> DrillSettings {
        let defaults = DrillSettings()
        guard let fields = mapping(entry, schema: .drill) else { return defaults }
        let rto = fields["rto"].flatMap {
            value($0, expected: "a duration", "rto must be a duration greater than zero, such as 15m or 1h") {
                parseDuration($0).flatMap { $0 > .zero ? $0 : nil }
            }
        }
        let maxLag = fields["max_lag_seconds"].flatMap {
            value($0, expected: "a number", "max_lag_seconds must be a number of seconds, 0 or more") {
                Double($0).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
            }
        }
        return DrillSettings(rto: rto ?? defaults.rto, maxLagSeconds: maxLag ?? defaults.maxLagSeconds)
    }

    private mutating func heartbeatSettings(_ entry: Entry) -> HeartbeatSettings {
        let defaults = HeartbeatSettings()
        guard let fields = mapping(entry, schema: .heartbeats) else { return defaults }
        let interval = fields["interval"].flatMap {
            value($0, expected: "a duration", "interval must be 0 (heartbeats off) or a duration of at least 100ms, such as 1s or 5s") {
                ($0 == "0" ? .zero : parseDuration($0)).flatMap { $0 == .zero || $0 >= .milliseconds(100) ? $0 : nil }
            }
        }
        return HeartbeatSettings(interval: interval ?? defaults.interval)
    }

    // MARK: Values

    /// The mapping's entries with the schema's keys; reports unknown and missing keys.
    private mutating func mapping(_ entry: Entry, schema: Schema) -> [String: Entry]? {
        guard let children = children(of: entry) else { return nil }
        var fields: [String: Entry] = [:]
        for (name, child) in children {
            if schema.keys.contains(name) {
                fields[name] = child
            } else {
                let suggestion = closest(to: name, among: schema.keys).map { " (did you mean \($0)?)" } ?? ""
                report(child.path, at: child.keyMark, "unknown key\(suggestion)")
            }
        }
        for name in schema.required where fields[name] == nil {
            report(entry.path(of: name), at: entry.keyMark, "missing required key")
        }
        return fields
    }

    /// librdkafka properties: any keys, scalar values as text (booleans as `true`/`false`). A file a `*.location`
    /// property names (`ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`, ...) must exist and be
    /// readable: librdkafka would only say so when a client is created, without the key or line.
    private mutating func properties(_ entry: Entry) -> [String: String] {
        var properties: [String: String] = [:]
        for (name, child) in children(of: entry) ?? [] {
            let value = text(child, expected: "a string, number or boolean").map { child.node.bool.map(String.init) ?? $0 }
            if let value, name.lowercased().hasSuffix(".location"), let problem = Self.unreadableLocation(value, property: name) {
                report(child, problem)
            }
            properties[name] = value
        }
        return properties
    }

    /// Why the file a `*.location` property names cannot be used, or nil. `ssl.ca.location` may also be a folder of
    /// CA certificates or `probe` (librdkafka looks in the system's usual places).
    private static func unreadableLocation(_ path: String, property: String) -> String? {
        let isCALocation = property.lowercased() == "ssl.ca.location"
        if isCALocation && path == "probe" { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "\(path) does not exist" }
        if isDirectory.boolValue { return isCALocation ? nil : "\(path) is a folder, not a file" }
        return FileManager.default.isReadableFile(atPath: path) ? nil : "\(path) cannot be read (permissions)"
    }

    /// The list's regular expressions that compile; reports the others.
    private mutating func patterns(_ entry: Entry) -> [String]? {
        guard let sequence = entry.node.sequence else {
            reportType(entry, expected: "a list of regular expressions")
            return nil
        }
        return sequence.enumerated().compactMap { index, node in
            let item = Entry(path: "\(entry.path)[\(index)]", node: node, keyMark: node.mark)
            guard let pattern = text(item, expected: "a regular expression") else { return nil }
            if let error = PatternSet.compileError(pattern) {
                report(item, error)
                return nil
            }
            return pattern
        }
    }

    /// The mapping's entries by key name, in file order; reports keys that are not scalars.
    private mutating func children(of entry: Entry) -> [(String, Entry)]? {
        guard let mapping = entry.node.mapping else {
            reportType(entry, expected: "a mapping")
            return nil
        }
        return mapping.compactMap { key, value in
            guard let name = key.scalar?.string else {
                report(entry.path, at: key.mark, "keys must be strings")
                return nil
            }
            return (name, Entry(path: entry.path(of: name), node: value, keyMark: key.mark))
        }
    }

    /// The entry's text parsed by `parse`; reports `message` if that fails.
    private mutating func value<T>(
        _ entry: Entry,
        expected: String = "a string",
        _ message: String,
        _ parse: (String) -> T?
    ) -> T? {
        guard let text = text(entry, expected: expected) else { return nil }
        guard let value = parse(text) else {
            report(entry, message)
            return nil
        }
        return value
    }

    /// The entry's scalar text with `${NAME}` references expanded.
    private mutating func text(_ entry: Entry, expected: String) -> String? {
        guard let scalar = entry.node.scalar, entry.node.null == nil else {
            reportType(entry, expected: expected)
            return nil
        }
        return expand(scalar.string, at: entry)
    }

    /// `text` with each `${NAME}` replaced from the environment and each `${file:PATH}` by the file's contents
    /// (one trailing newline dropped); reports undefined names and unreadable files.
    private mutating func expand(_ text: String, at entry: Entry) -> String? {
        var result = ""
        var rest = text[...]
        var complete = true
        while let open = rest.firstRange(of: "${") {
            result += rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "}") else {
                result += "${"
                continue
            }
            let reference = rest[..<close]
            if reference.hasPrefix("file:") {
                let path = String(reference.dropFirst("file:".count))
                switch SecretFile.read(path, relativeTo: baseDirectory) {
                case .success(let value): result += value
                case .failure(let reason):
                    report(entry, "cannot read ${file:\(path)}: \(reason)")
                    complete = false
                }
                rest = rest[rest.index(after: close)...]
                continue
            }
            guard reference.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) != nil else {
                result += "${"
                continue
            }
            let name = String(reference)
            if let value = environment[name] {
                result += value
            } else {
                report(entry, "undefined environment variable \(name)")
                complete = false
            }
            rest = rest[rest.index(after: close)...]
        }
        return complete ? result + rest : nil
    }

    // MARK: Reporting

    private mutating func report(_ path: String, at mark: Mark?, _ message: String) {
        issues.append(TopologyIssue(file: file, line: mark?.line, column: mark?.column, key: path, message: message))
    }

    private mutating func report(_ entry: Entry, _ message: String) {
        report(entry.path, at: entry.node.mark ?? entry.keyMark, message)
    }

    private mutating func reportType(_ entry: Entry, expected: String) {
        let found = switch entry.node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar: entry.node.null == nil ? "a scalar" : "no value"
        }
        report(entry, "expected \(expected), found \(found)")
    }

    /// Reports a YAML error with its position, without the source snippet (which could hold secrets).
    private mutating func reportSyntaxError(_ error: any Error) {
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let during = context.map { " \($0.text) started at line \($0.mark.line)" } ?? ""
            report("", at: mark, "invalid YAML: \(problem)\(during)")
        case let .duplicatedKeysInMapping(duplicates, context):
            report("", at: context.mark, "invalid YAML: duplicate key \(duplicates.joined(separator: ", "))")
        case let .reader(problem, _, _, _):
            report("", at: nil, "invalid YAML: \(problem)")
        default:
            report("", at: nil, "invalid YAML: \(error)")
        }
    }
}

/// The candidate within edit distance 2 of `name`, if any (the nearest one).
private func closest(to name: String, among candidates: [String]) -> String? {
    candidates
        .map { (candidate: $0, distance: editDistance(name, $0)) }
        .filter { $0.distance <= 2 }
        .min { $0.distance < $1.distance }?
        .candidate
}

/// Levenshtein distance between `a` and `b`, by characters.
private func editDistance(_ a: String, _ b: String) -> Int {
    let b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
