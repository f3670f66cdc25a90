// A handler that throws inside a tap is caught and logged by the framework
// (exparser), not thrown: fail the test on any console.error instead.
const util = require('util')

let errors = []

beforeEach(() => {
  errors = []
  jest.spyOn(console, 'error').mockImplementation((...args) => errors.push(util.format(...args)))
})

afterEach(() => {
  console.error.mockRestore()
  if (errors.length) throw new Error('console.error during the test:\n' + errors.join('\n'))
})
