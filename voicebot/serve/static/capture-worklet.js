// voicebot: microphone capture in an AudioWorklet, resampled to 16 kHz mono s16le.
// The AudioContext runs at the device's rate (usually 48 kHz). Each input sample goes
// through a windowed-sinc low-pass (cut-off 0.45 x the target rate, so nothing above 7.2 kHz
// folds back into the speech band), then the filtered signal is read at the target rate by
// linear interpolation. Blocks of `blockMs` are posted to the page as transferable buffers.

function lowpassTaps(cutoff, count) {
  // cutoff in cycles per input sample (0..0.5); Hamming-windowed sinc, unit DC gain
  const taps = new Float32Array(count);
  const mid = (count - 1) / 2;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (count - 1));
    taps[i] = sinc * window;
    sum += taps[i];
  }
  for (let i = 0; i < count; i++) taps[i] /= sum;
  return taps;
}

class Capture16k extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.taps = this.step > 1 ? lowpassTaps(0.45 / this.step, 31) : new Float32Array([1]);
    this.history = new Float32Array(this.taps.length);
    this.head = 0;
    this.index = 0; // input samples seen
    this.nextAt = 0; // input-sample time of the next output sample
    this.previous = 0; // the last filtered sample
    this.block = Math.round((this.targetRate * (opts.blockMs || 20)) / 1000);
    this.out = new Int16Array(this.block);
    this.filled = 0;
  }

  filter(x) {
    const n = this.taps.length;
    this.history[this.head] = x;
    let acc = 0;
    let j = this.head;
    for (let i = 0; i < n; i++) {
      acc += this.taps[i] * this.history[j];
      j = j === 0 ? n - 1 : j - 1;
    }
    this.head = (this.head + 1) % n;
    return acc;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.out[this.filled++] = Math.round(clipped * 32767);
    if (this.filled === this.block) {
      this.port.postMessage(this.out.buffer, [this.out.buffer]);
      this.out = new Int16Array(this.block);
      this.filled = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const samples = channels[0];
    for (let k = 0; k < samples.length; k++) {
      const y = this.filter(samples[k]);
      // output samples that fall between the previous filtered sample and this one
      while (this.nextAt <= this.index) {
        const frac = 1 - (this.index - this.nextAt);
        this.emit(this.previous + (y - this.previous) * frac);
        this.nextAt += this.step;
      }
      this.previous = y;
      this.index += 1;
    }
    return true;
  }
}

registerProcessor("capture-16k", Capture16k);
