'use strict';
// Makes every require('usb') in this node process load usb_shim.js, which reaches the project's simulated devices
// through the Python USB bridge (hardware/simulated/usb_bridge.py) instead of libusb, and makes the `serialport`
// module's SerialPort.list() return the simulated devices' serial consoles (ptys) instead of the host's ports.
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

// serialport lists ports from udev / sysfs, where a pty never appears: list the bridged consoles instead. Opening
// a listed path is left to serialport itself (it is a real pty).
const load = Module._load;
const patched = new WeakSet();

Module._load = function loadWithBridgedSerialPorts(request, ...rest) {
	const exported = load.call(this, request, ...rest);
	if (request === 'serialport' && exported && exported.SerialPort && !patched.has(exported.SerialPort)) {
		patched.add(exported.SerialPort);
		exported.SerialPort.list = () => require(SHIM).listSerialPorts();
	}
	return exported;
};
