/// <reference lib="dom" />
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.js';
import { connectBridge } from './bridge-client.js';

const root = document.getElementById('app');

if (root !== null) {
  render(<App client={connectBridge()} />, root);
}
