import LetheCrypto
import Testing

@Suite("ConstantTime.equals")
struct ConstantTimeTests {
    let mac: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xff) }

    @Test("equal byte strings are equal")
    func equalBytes() {
        #expect(ConstantTime.equals(mac, Array(mac)))
    }

    @Test("byte strings that differ only in the last byte are not equal")
    func differInLastByte() {
        #expect(!ConstantTime.equals(mac, flippingBit(0, ofByte: 31, in: mac)))
    }

    @Test("byte strings that differ only in the first byte are not equal")
    func differInFirstByte() {
        #expect(!ConstantTime.equals(mac, flippingBit(7, ofByte: 0, in: mac)))
    }

    @Test("a byte string and its prefix are not equal, either way round")
    func differInLength() {
        #expect(!ConstantTime.equals(mac, Array(mac.dropLast())))
        #expect(!ConstantTime.equals(Array(mac.dropLast()), mac))
        #expect(!ConstantTime.equals(mac, []))
    }

    @Test("two empty byte strings are equal")
    func emptyIsEqual() {
        #expect(ConstantTime.equals([], []))
        #expect(ConstantTime.equals(UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0)))
    }

    @Test("the buffer-pointer form agrees with the array form")
    func pointerForm() {
        let other = flippingBit(0, ofByte: 16, in: mac)
        mac.withUnsafeBytes { a in
            Array(mac).withUnsafeBytes { same in #expect(ConstantTime.equals(a, same)) }
            other.withUnsafeBytes { different in #expect(!ConstantTime.equals(a, different)) }
        }
    }
}
