import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of an S3 XML answer: its local name, its text and its child elements.
struct XMLNode: Sendable {
    let name: String
    var text: String
    var children: [XMLNode]

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    func text(_ name: String) -> String? { child(name)?.text }
}

/// Why an XML answer was refused.
package struct XMLRefused: Error, Equatable, Sendable, CustomStringConvertible {
    let problem: String
    package var description: String { problem }
}

/// Parses S3's XML answers with FoundationXML's `XMLParser`, defensively: the input and the
/// tree are bounded, a document type declaration (and so any entity) is refused before the
/// parser sees the bytes, external entities are never resolved, and malformed input is an
/// `XMLRefused` error, never a trap. S3 answers are small, flat documents: a ListObjectsV2
/// page of 1000 keys is about 8,000 elements, a ListObjectVersions page about 11,000.
enum XMLTree {
    struct Limits: Sendable {
        var bytes = 16 * 1024 * 1024
        var depth = 16
        var elements = 100_000
        var textBytes = 64 * 1024
    }

    static func parse(_ data: Data, limits: Limits = Limits()) throws -> XMLNode {
        guard data.count <= limits.bytes else { throw XMLRefused(problem: "the XML answer exceeds \(limits.bytes) bytes") }
        guard !data.isEmpty else { throw XMLRefused(problem: "the answer is empty where XML was expected") }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil {
            throw XMLRefused(problem: "the XML answer has a document type declaration")
        }
        let builder = TreeBuilder(limits: limits)
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let refusal = builder.refusal { throw refusal }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { "line \(parser.lineNumber): \(($0 as NSError).code)" } ?? "no root element"
            throw XMLRefused(problem: "the answer is not well-formed XML (\(reason))")
        }
        return root
    }

    /// Builds the tree, counting as it goes; aborts the parse at the first limit crossed.
    private final class TreeBuilder: NSObject, XMLParserDelegate {
        let limits: Limits
        var stack: [XMLNode] = []
        var root: XMLNode?
        var count = 0
        var refusal: XMLRefused?

        init(limits: Limits) { self.limits = limits }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            count += 1
            guard count <= limits.elements else { return refuse(parser, "the XML answer has more than \(limits.elements) elements") }
            guard stack.count < limits.depth else { return refuse(parser, "the XML answer is nested deeper than \(limits.depth)") }
            guard root == nil else { return refuse(parser, "the XML answer has more than one root element") }
            let local = name.split(separator: ":").last.map(String.init) ?? name
            stack.append(XMLNode(name: local, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            guard stack[stack.count - 1].text.utf8.count + string.utf8.count <= limits.textBytes else {
                return refuse(parser, "an XML element's text exceeds \(limits.textBytes) bytes")
            }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let node = stack.popLast() else { return }
            if stack.isEmpty {
                root = node
            } else {
                stack[stack.count - 1].children.append(node)
            }
        }

        /// The first error decides. Stopping there also bounds what FoundationXML leaks: it makes
        /// a CFString for each error's domain and never releases it (swift-corelibs-foundation's
        /// `_CFErrorCreateFromXMLInterface`), and libxml2 goes on past many errors, one per
        /// byte of a run of control characters (docs/fuzzing.md).
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            parser.abortParsing()
        }

        private func refuse(_ parser: XMLParser, _ problem: String) {
            if refusal == nil { refusal = XMLRefused(problem: problem) }
            parser.abortParsing()
        }
    }
}
