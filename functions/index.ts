/**
 * `trailwatch/functions`: the pure logic, no Pulumi imports. The event patterns trailwatch deploys (subscribe to the
 * central bus with them) and the EventBridge pattern matcher the offline tools run them with.
 * Each module under functions/ is also importable on its own (`trailwatch/functions/<path>`): the Lambda archives
 * require them by that name (see components/lambdaBundle.ts).
 */
export * as patterns from "./patterns";
export * as eventPattern from "./eventPattern";
