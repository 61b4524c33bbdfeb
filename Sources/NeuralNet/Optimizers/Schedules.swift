/// A learning rate as a function of the optimiser step (counted from 1).
public typealias LearningRateSchedule = @Sendable (Int) -> Float

/// The paper's schedule (METHODS.md section 7.4): linear warm-up from `warmupFactor x peak`
/// at step 1 to `peak` at step `warmupSteps`, then `peak` multiplied by `decay` at each
/// milestone reached (step >= milestone).
///
/// With peak 1e-4, 1,000 warm-up steps from factor 0.001 and milestones 2,000 and 8,000:
/// step 1 -> 1e-7, step 1,000 -> 1e-4, step 1,999 -> 1e-4, step 2,000 -> 1e-5, step 8,000 -> 1e-6,
/// as ignite's `create_lr_scheduler_with_warmup` around `MultiStepLR` gives.
public func warmupMultiStepSchedule(peak: Float, warmupSteps: Int, warmupFactor: Float,
                                    milestones: [Int], decay: Float) -> LearningRateSchedule {
    return { step in
        if warmupSteps > 1 && step <= warmupSteps {
            let start = peak * warmupFactor
            return start + Float(max(step, 1) - 1) * (peak - start) / Float(warmupSteps - 1)
        }
        let passed = milestones.filter { step >= $0 }.count
        var lr = peak
        for _ in 0..<passed { lr *= decay }
        return lr
    }
}
