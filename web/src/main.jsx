// main.jsx: entry point of the web client.
import { render } from "preact";
import "adaptivecards/lib/adaptivecards.css";
import "./style.css";
import { App } from "./app.jsx";

render(<App />, document.getElementById("app"));
