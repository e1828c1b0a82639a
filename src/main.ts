import './app/whycam-app.js';
