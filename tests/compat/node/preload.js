'use strict';
// Makes every require('usb') in this node process load usb_shim.js, which reaches the project's simulated devices
// through the Python USB bridge (hardware/simulated/usb_bridge.py) instead of libusb.
// Use: PARTICLE_USB_BRIDGE=127.0.0.1:<port> node -r tests/compat/node/preload.js script.js
// or:  NODE_OPTIONS="-r $PWD/tests/compat/node/preload.js" particle usb list
const Module = require('module');
const path = require('path');

const SHIM = path.join(__dirname, 'usb_shim.js');
const resolve = Module._resolveFilename;

Module._resolveFilename = function resolveUsbToShim(request, parent, ...rest) {
	if (request === 'usb') {
		return SHIM;
	}
	return resolve.call(this, request, parent, ...rest);
};
