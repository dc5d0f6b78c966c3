import Foundation

/// Returns `dsn` with every password replaced by `***`, for logs and error messages.
///
/// Handles the libpq key/value form (`password=secret`, `password = 'it''s'`, any case),
/// the URI form (`postgresql://user:secret@host`, `postgres://…`) and a `password`
/// query parameter in a URI (`?password=secret`). When in doubt it redacts too much
/// rather than too little.
package func redactPassword(inDSN dsn: String) -> String {
    var text = dsn
    // URI user info: scheme://user:password@host. The password runs up to the first `@`.
    text = text.replacing(#/(?<head>postgres(?:ql)?://[^:@/\s]*):[^@\s]*@/#.ignoresCase()) { match in
        "\(match.output.head):***@"
    }
    // URI query parameter: ?password=… or &password=…
    text = text.replacing(#/(?<head>[?&]password=)[^&#\s]*/#.ignoresCase()) { match in
        "\(match.output.head)***"
    }
    // Key/value form: password=value, value optionally single-quoted with \' or '' escapes.
    text = text.replacing(
        #/(?<head>(?:^|\s)password\s*=\s*)(?:'(?:[^'\\]|\\.|'')*'?|\S+)/#.ignoresCase()
    ) { match in
        "\(match.output.head)***"
    }
    return text
}

/// Returns `text` with every password that `dsn` holds replaced by `***`, as written and percent-decoded.
///
/// libpq quotes parts of a connection string it cannot parse in its error messages; with a URI whose password
/// holds a `%` that is not percent-encoding (`postgresql://u:50%off@h`), the part quoted is the password.
func redactPasswords(of dsn: String, in text: String) -> String {
    var secrets: [String] = []
    for match in dsn.matches(of: #/postgres(?:ql)?://[^:@/\s]*:(?<password>[^@\s]*)@/#.ignoresCase()) {
        secrets.append(String(match.output.password))
    }
    for match in dsn.matches(of: #/[?&]password=(?<password>[^&#\s]*)/#.ignoresCase()) {
        secrets.append(String(match.output.password))
    }
    for match in dsn.matches(of: #/(?:^|\s)password\s*=\s*(?<password>'(?:[^'\\]|\\.|'')*'?|\S+)/#.ignoresCase()) {
        let value = String(match.output.password)
        secrets.append(value)
        if value.hasPrefix("'") {  // also as libpq reads it: unquoted, unescaped
            var inner = value.dropFirst()
            if inner.hasSuffix("'") { inner = inner.dropLast() }
            secrets.append(inner.replacingOccurrences(of: "''", with: "'").replacingOccurrences(of: "\\'", with: "'"))
        }
    }
    secrets += secrets.compactMap { $0.removingPercentEncoding }
    var redacted = text
    for secret in Set(secrets).sorted(by: { $0.count > $1.count }) where !secret.isEmpty {
        redacted = redacted.replacingOccurrences(of: secret, with: "***")
    }
    return redacted
}
