import FuzzDriver

/// One fuzz input's bytes, as libFuzzer hands them over.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer's driver with `callback` as the target: what each target's `<Module>_main` does.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// The input's bytes (empty when libFuzzer passes no buffer).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
}

/// A broken invariant: trap with what broke and the input, so libFuzzer saves the input as a crash.
public func require(_ condition: Bool, _ what: @autoclosure () -> String, input: @autoclosure () -> String) {
    if condition { return }
    fatalError("invariant broken: \(what()) for input \(input().debugDescription)")
}
