/* eslint-disable @typescript-eslint/no-unused-vars -- entry points: the codec runtime calls them by name */
// HexEdge example climate sensor (written for HexEdge's tests in The Things Network device
// repository's codec format; ECMAScript 5.1, as the device repository requires).
//
// Uplinks
//   fPort 1, 7 bytes: temperature int16 BE (0.01 °C), humidity uint8 (0.5 %), CO2 uint16 BE (ppm),
//                     battery uint8 (%), flags uint8 (bit 0: motion)
//   fPort 2, 2 + 3n bytes: interval uint8 (minutes), count n, then n × (temperature int16 BE, humidity uint8),
//                          oldest first; the newest reading was taken when the uplink was received
// Downlinks
//   fPort 3  [0x01, minutes hi, minutes lo]      { intervalMinutes }
//   fPort 4  [0x02, 0 off | 1 green | 2 red]      { led }
//   fPort 10 [0xa0, class index, confidence %]   { classIndex, confidence } (a HexEdge answer)

var LEDS = ['off', 'green', 'red'];

function int16(hi, lo) {
  var v = (hi << 8) | lo;
  return v & 0x8000 ? v - 0x10000 : v;
}

function decodeUplink(input) {
  var b = input.bytes;
  if (input.fPort === 1) {
    if (b.length !== 7) return { errors: ['fPort 1 needs 7 bytes, got ' + b.length] };
    var data = {
      temperatureC: int16(b[0], b[1]) / 100,
      humidityPct: b[2] / 2,
      co2Ppm: (b[3] << 8) | b[4],
      batteryPct: b[5],
      motion: (b[6] & 1) === 1,
    };
    var warnings = [];
    if (data.batteryPct < 10) warnings.push('battery low: ' + data.batteryPct + ' %');
    if (data.humidityPct > 100) return { errors: ['humidity ' + data.humidityPct + ' % is out of range'] };
    return { data: data, warnings: warnings };
  }
  if (input.fPort === 2) {
    if (b.length < 2 || b.length !== 2 + 3 * b[1])
      return { errors: ['fPort 2 history is ' + b.length + ' bytes, not 2 + 3 × count'] };
    var intervalMinutes = b[0];
    var count = b[1];
    var newestMs = input.recvTime.getTime();
    var readings = [];
    for (var i = 0; i < count; i++) {
      var at = 2 + 3 * i;
      readings.push({
        time: new Date(newestMs - (count - 1 - i) * intervalMinutes * 60000).toISOString(),
        temperatureC: int16(b[at], b[at + 1]) / 100,
        humidityPct: b[at + 2] / 2,
      });
    }
    console.log('history of ' + count + ' readings, ' + intervalMinutes + ' min apart');
    return { data: { intervalMinutes: intervalMinutes, readings: readings } };
  }
  return { errors: ['unknown fPort ' + input.fPort] };
}

function normalizeUplink(input) {
  var d = input.data;
  if (d.readings) {
    var out = [];
    for (var i = 0; i < d.readings.length; i++) {
      out.push({
        time: d.readings[i].time,
        air: { temperature: d.readings[i].temperatureC, relativeHumidity: d.readings[i].humidityPct },
      });
    }
    return { data: out };
  }
  return { data: { air: { temperature: d.temperatureC, relativeHumidity: d.humidityPct, co2: d.co2Ppm } } };
}

function encodeDownlink(input) {
  var d = input.data;
  if (typeof d.intervalMinutes === 'number') {
    if (d.intervalMinutes < 1 || d.intervalMinutes > 1440)
      return { errors: ['intervalMinutes must be 1–1440'] };
    return { bytes: [0x01, d.intervalMinutes >> 8, d.intervalMinutes & 0xff], fPort: 3 };
  }
  if (typeof d.led === 'string') {
    var code = LEDS.indexOf(d.led);
    if (code < 0) return { errors: ['led must be one of ' + LEDS.join(', ')] };
    return { bytes: [0x02, code], fPort: 4 };
  }
  if (typeof d.classIndex === 'number') {
    var warnings = typeof d.confidence === 'number' ? [] : ['no confidence; sent as 0 %'];
    var pct = typeof d.confidence === 'number' ? Math.round(d.confidence * 100) : 0;
    return { bytes: [0xa0, d.classIndex, pct], fPort: 10, warnings: warnings };
  }
  return { errors: ['unknown command: expected intervalMinutes, led or classIndex'] };
}

function decodeDownlink(input) {
  var b = input.bytes;
  if (input.fPort === 3 && b[0] === 0x01) return { data: { intervalMinutes: (b[1] << 8) | b[2] } };
  if (input.fPort === 4 && b[0] === 0x02) return { data: { led: LEDS[b[1]] } };
  if (input.fPort === 10 && b[0] === 0xa0) return { data: { classIndex: b[1], confidence: b[2] / 100 } };
  return { errors: ['unknown downlink on fPort ' + input.fPort] };
}
