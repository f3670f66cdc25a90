// The PC console's login code: the QR code holds a URL ending in
// /console/l/<CODE>, or staff type the code (8 letters and digits,
// case-insensitive, a dash allowed).
function parseLoginCode(text) {
  const raw = String(text || '').trim()
  const match = raw.match(/\/console\/l\/([A-Za-z0-9-]+)\/?(?:[?#].*)?$/)
  const code = (match ? match[1] : raw).replace(/-/g, '').toUpperCase()
  return /^[A-Z0-9]{8}$/.test(code) ? code : null
}

// "ABCD1234" -> "ABCD-1234", as the console shows it.
function displayCode(code) {
  return code ? code.slice(0, 4) + '-' + code.slice(4) : ''
}

module.exports = { parseLoginCode, displayCode }
