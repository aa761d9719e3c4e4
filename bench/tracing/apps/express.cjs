// Plain Express 5 serving the same handler. With XRAY_SDK_EXPRESS=1, the same app under
// aws-xray-sdk-express as its README sets it up (openSegment before the routes, closeSegment after;
// the SDK in its default automatic mode), every request sampled (local rules, rate 1), segments sent
// over UDP to AWS_XRAY_DAEMON_ADDRESS (the bench's sink).
const express = require('express');
const { handler } = require('./handler.cjs');

const app = express();
const xray = process.env.XRAY_SDK_EXPRESS === '1';
let AWSXRayExpress;
if (xray) {
  const AWSXRay = require('aws-xray-sdk-core');
  AWSXRayExpress = require('aws-xray-sdk-express');
  AWSXRay.middleware.disableCentralizedSampling();
  AWSXRay.middleware.setSamplingRules({ version: 2, default: { fixed_target: 0, rate: 1 }, rules: [] });
  app.use(AWSXRayExpress.openSegment('bench'));
}
app.get('/', handler);
if (xray) app.use(AWSXRayExpress.closeSegment());
app.listen(Number(process.env.PORT));
